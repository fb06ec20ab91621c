using System.ComponentModel;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpAspire.McpNode.Packs.Conformance;

/// <summary>The prompts of the <c>conformance</c> pack: plain, with arguments, with an embedded resource, with an image.</summary>
[McpServerPromptType]
public sealed class ConformancePrompts
{
    /// <summary>The prompt whose arguments <c>completion/complete</c> suggests values for.</summary>
    public const string WithArgumentsName = "test_prompt_with_arguments";

    /// <summary>One fixed user message.</summary>
    [McpServerPrompt(Name = "test_simple_prompt")]
    [Description("One fixed user message.")]
    public static PromptMessage SimplePrompt() => User(new TextContentBlock { Text = "This is a simple prompt for testing." });

    /// <summary>A user message that quotes both arguments.</summary>
    [McpServerPrompt(Name = WithArgumentsName)]
    [Description("A user message that quotes both arguments.")]
    public static PromptMessage PromptWithArguments(
        [Description("First test argument.")] string arg1,
        [Description("Second test argument.")] string arg2) =>
        User(new TextContentBlock { Text = $"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'" });

    /// <summary>An embedded resource, then a user message about it.</summary>
    [McpServerPrompt(Name = "test_prompt_with_embedded_resource")]
    [Description("Embeds a text resource under the given URI, then asks to process it.")]
    public static IEnumerable<PromptMessage> PromptWithEmbeddedResource([Description("URI of the resource to embed.")] string resourceUri) =>
    [
        User(new EmbeddedResourceBlock
        {
            Resource = new TextResourceContents { Uri = resourceUri, MimeType = "text/plain", Text = "Embedded resource content for testing." },
        }),
        User(new TextContentBlock { Text = "Please process the embedded resource above." }),
    ];

    /// <summary>An image, then a user message about it.</summary>
    [McpServerPrompt(Name = "test_prompt_with_image")]
    [Description("Shows a 1x1 red PNG, then asks to analyze it.")]
    public static IEnumerable<PromptMessage> PromptWithImage() =>
    [
        User(ImageContentBlock.FromBytes(ConformanceMedia.Png, "image/png")),
        User(new TextContentBlock { Text = "Please analyze the image above." }),
    ];

    private static PromptMessage User(ContentBlock content) => new() { Role = Role.User, Content = content };
}
