using System.ComponentModel;
using ModelContextProtocol.Server;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>Resources a test node serves: one listed resource and one template.</summary>
[McpServerResourceType]
public sealed class GuideResources
{
    public const string GuideUri = "mcpaspire-test://guide";

    [McpServerResource(UriTemplate = GuideUri, Name = "guide", MimeType = "text/plain")]
    [Description("How to use the test cluster.")]
    public static string Guide() => "The guide, served by a node.";

    [McpServerResource(UriTemplate = "mcpaspire-test://notes/{id}", Name = "note", MimeType = "text/plain")]
    [Description("A note by id.")]
    public static string Note(string id) => $"Note {id}, served by a node.";
}

/// <summary>A prompt a test node serves.</summary>
[McpServerPromptType]
public sealed class GuidePrompts
{
    [McpServerPrompt(Name = "greet")]
    [Description("Asks for a greeting.")]
    public static string Greet([Description("Whom to greet.")] string name) => $"Write a greeting for {name}.";
}
