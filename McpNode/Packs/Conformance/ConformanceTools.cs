using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using static ModelContextProtocol.Protocol.ElicitRequestParams;

// The suite tests protocol 2025-11-25, where sampling, logging and legacy titled enums are current; 2026-07-28
// deprecates them. This pack exists to exercise exactly those, so their deprecation warnings do not apply here.
#pragma warning disable MCP9001, MCP9005

namespace McpAspire.McpNode.Packs.Conformance;

/// <summary>
/// The tools of the <c>conformance</c> pack: exactly what the official MCP conformance suite calls, by
/// the names and with the results it expects. Every content type, logging, progress, an error result,
/// and requests back to the client (sampling, elicitation), which need a stateful session.
/// </summary>
[McpServerToolType]
public sealed class ConformanceTools
{
    /// <summary>The pause between the notifications of the logging and progress tools.</summary>
    public static readonly TimeSpan Step = TimeSpan.FromMilliseconds(50);

    /// <summary>Returns one text block.</summary>
    [McpServerTool(Name = "test_simple_text", ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("Returns one fixed text block.")]
    public static string SimpleText() => "This is a simple text response for testing.";

    /// <summary>Returns one PNG image block.</summary>
    [McpServerTool(Name = "test_image_content", ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("Returns one image block: a 1x1 red PNG.")]
    public static ImageContentBlock ImageContent() => ImageContentBlock.FromBytes(ConformanceMedia.Png, "image/png");

    /// <summary>Returns one WAV audio block.</summary>
    [McpServerTool(Name = "test_audio_content", ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("Returns one audio block: a tenth of a second of silence as audio/wav.")]
    public static AudioContentBlock AudioContent() => AudioContentBlock.FromBytes(ConformanceMedia.Wav, "audio/wav");

    /// <summary>Returns one embedded text resource.</summary>
    [McpServerTool(Name = "test_embedded_resource", ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("Returns one embedded text resource, test://embedded-resource.")]
    public static EmbeddedResourceBlock EmbeddedResource() => new()
    {
        Resource = new TextResourceContents { Uri = "test://embedded-resource", MimeType = "text/plain", Text = "This is an embedded resource content." },
    };

    /// <summary>Returns text, an image and an embedded resource in one result.</summary>
    [McpServerTool(Name = "test_multiple_content_types", ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("Returns three blocks in one result: text, a PNG image and an embedded JSON resource.")]
    public static IEnumerable<ContentBlock> MultipleContentTypes() =>
    [
        new TextContentBlock { Text = "Multiple content types test:" },
        ImageContentBlock.FromBytes(ConformanceMedia.Png, "image/png"),
        new EmbeddedResourceBlock
        {
            Resource = new TextResourceContents { Uri = "test://mixed-content-resource", MimeType = "application/json", Text = """{"test":"data","value":123}""" },
        },
    ];

    /// <summary>Sends three log messages to the client, 50 ms apart, at the level the client asked for.</summary>
    [McpServerTool(Name = "test_tool_with_logging", ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("Sends three info log messages to the client, 50 ms apart (if its logging/setLevel allows info), then returns.")]
    public static async Task<string> ToolWithLoggingAsync(McpServer server, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        string[] messages = ["Tool execution started", "Tool processing data", "Tool execution completed"];
        for (var i = 0; i < messages.Length; i++)
        {
            if (i > 0)
            {
                await Task.Delay(Step, cancellationToken);
            }

            await LogAsync(server, LoggingLevel.Info, messages[i], cancellationToken);
        }

        return $"Tool with logging executed: sent {messages.Length} log messages.";
    }

    /// <summary>Always fails, as a result the model can read rather than a protocol error.</summary>
    [McpServerTool(Name = "test_error_handling", ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("Always fails, with an isError result rather than a JSON-RPC error.")]
    public static CallToolResult ErrorHandling() => new()
    {
        IsError = true,
        Content = [new TextContentBlock { Text = "This tool intentionally returns an error for testing" }],
    };

    /// <summary>Reports progress 0, 50 and 100 of 100, 50 ms apart, when the caller sent a progress token.</summary>
    [McpServerTool(Name = "test_tool_with_progress", ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("Reports progress 0, 50 and 100 of 100, 50 ms apart, when the request carries a progress token; then returns.")]
    public static async Task<string> ToolWithProgressAsync(RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var token = context.Params?.ProgressToken;
        foreach (var progress in new[] { 0, 50, 100 })
        {
            if (progress > 0)
            {
                await Task.Delay(Step, cancellationToken);
            }

            if (token is { } progressToken)
            {
                // Awaited, not reported through IProgress: each notification is written before the next
                // step, so the client sees them in order and all before the result.
                await context.Server.NotifyProgressAsync(progressToken, new ProgressNotificationValue { Progress = progress, Total = 100 }, cancellationToken: cancellationToken);
            }
        }

        return "Tool with progress executed: reported 0, 50 and 100 of 100.";
    }

    /// <summary>Asks the client's model to answer a prompt (<c>sampling/createMessage</c>).</summary>
    [McpServerTool(Name = "test_sampling", ReadOnly = true, Idempotent = false, Destructive = false, OpenWorld = true)]
    [Description("Sends the prompt to the client's model with sampling/createMessage (at most 100 tokens) and returns its answer. Needs a client with the sampling capability.")]
    public static async Task<CallToolResult> SamplingAsync(
        McpServer server,
        [Description("The prompt to send to the client's model.")] string prompt,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (server.ClientCapabilities?.Sampling is null)
        {
            return Error("The client did not declare the sampling capability, so this tool cannot ask its model.");
        }

        var answer = await server.SampleAsync(
            new CreateMessageRequestParams
            {
                Messages = [new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = prompt }] }],
                MaxTokens = 100,
            },
            cancellationToken);
        var text = string.Join(" ", answer.Content.OfType<TextContentBlock>().Select(block => block.Text));
        return Text($"LLM response: {text}");
    }

    /// <summary>Asks the user for a user name and an e-mail address (<c>elicitation/create</c>).</summary>
    [McpServerTool(Name = "test_elicitation", ReadOnly = true, Idempotent = false, Destructive = false, OpenWorld = true)]
    [Description("Asks the user, through the client, for a user name and an e-mail address with elicitation/create, and returns the answer. Needs a client with the elicitation capability.")]
    public static Task<CallToolResult> ElicitationAsync(
        McpServer server,
        [Description("The message to show the user.")] string message,
        CancellationToken cancellationToken) =>
        ElicitAsync(server, message, "User response", new RequestSchema
        {
            Properties =
            {
                ["username"] = new StringSchema { Description = "User's response" },
                ["email"] = new StringSchema { Description = "User's email address" },
            },
            Required = ["username", "email"],
        }, cancellationToken);

    /// <summary>Asks the user for values that all have defaults (SEP-1034).</summary>
    [McpServerTool(Name = "test_elicitation_sep1034_defaults", ReadOnly = true, Idempotent = false, Destructive = false, OpenWorld = true)]
    [Description("Asks the user for a string, an integer, a number, an enum and a boolean, each with a default value (SEP-1034), and returns the answer.")]
    public static Task<CallToolResult> ElicitationDefaultsAsync(McpServer server, CancellationToken cancellationToken) =>
        ElicitAsync(server, "Please review and update the form fields with defaults", "Elicitation completed", new RequestSchema
        {
            Properties =
            {
                ["name"] = new StringSchema { Description = "User name", Default = "John Doe" },
                ["age"] = new NumberSchema { Type = "integer", Description = "User age", Default = 30 },
                ["score"] = new NumberSchema { Description = "User score", Default = 95.5 },
                ["status"] = new UntitledSingleSelectEnumSchema { Description = "User status", Enum = ["active", "inactive", "pending"], Default = "active" },
                ["verified"] = new BooleanSchema { Description = "Verification status", Default = true },
            },
        }, cancellationToken);

    /// <summary>Asks the user to choose, once in each of the five enum forms (SEP-1330).</summary>
    [McpServerTool(Name = "test_elicitation_sep1330_enums", ReadOnly = true, Idempotent = false, Destructive = false, OpenWorld = true)]
    [Description("Asks the user to choose in each of the five enum forms of SEP-1330: untitled and titled single-select, legacy enumNames, untitled and titled multi-select.")]
    public static Task<CallToolResult> ElicitationEnumsAsync(McpServer server, CancellationToken cancellationToken) =>
        ElicitAsync(server, "Please select options from the enum fields", "Elicitation completed", new RequestSchema
        {
            Properties =
            {
                ["untitledSingle"] = new UntitledSingleSelectEnumSchema { Description = "Choose one option", Enum = ["option1", "option2", "option3"] },
                ["titledSingle"] = new TitledSingleSelectEnumSchema
                {
                    Description = "Choose one titled option",
                    OneOf = [Option("value1", "First Option"), Option("value2", "Second Option"), Option("value3", "Third Option")],
                },
                ["legacyEnum"] = new LegacyTitledEnumSchema
                {
                    Description = "Choose one option (legacy titles)",
                    Enum = ["opt1", "opt2", "opt3"],
                    EnumNames = ["Option One", "Option Two", "Option Three"],
                },
                ["untitledMulti"] = new UntitledMultiSelectEnumSchema
                {
                    Description = "Choose any options",
                    Items = new UntitledEnumItemsSchema { Enum = ["option1", "option2", "option3"] },
                },
                ["titledMulti"] = new TitledMultiSelectEnumSchema
                {
                    Description = "Choose any titled options",
                    Items = new TitledEnumItemsSchema { AnyOf = [Option("value1", "First Choice"), Option("value2", "Second Choice"), Option("value3", "Third Choice")] },
                },
            },
        }, cancellationToken);

    /// <summary>
    /// The suite's JSON Schema 2020-12 tool: its input schema is written by hand, with <c>$schema</c>,
    /// <c>$defs</c>, a <c>$ref</c> and <c>additionalProperties: false</c>, and listed exactly as written.
    /// </summary>
    public static McpServerTool JsonSchema2020Tool()
    {
        var tool = McpServerTool.Create(
            (string? name, JsonElement? address) =>
                $"Received name={name ?? "(none)"}, address={(address is { } given ? given.GetRawText() : "(none)")}",
            new McpServerToolCreateOptions
            {
                Name = "json_schema_2020_12_tool",
                Description = "Tool with JSON Schema 2020-12 features",
                ReadOnly = true,
                Idempotent = true,
                Destructive = false,
                OpenWorld = false,
            });
        tool.ProtocolTool.InputSchema = JsonDocument.Parse("""
            {
              "$schema": "https://json-schema.org/draft/2020-12/schema",
              "type": "object",
              "$defs": {
                "address": {
                  "type": "object",
                  "properties": {
                    "street": { "type": "string", "description": "Street and number." },
                    "city": { "type": "string", "description": "City." }
                  }
                }
              },
              "properties": {
                "name": { "type": "string", "description": "A person's name." },
                "address": { "$ref": "#/$defs/address", "description": "Where the person lives." }
              },
              "additionalProperties": false
            }
            """).RootElement.Clone();
        return tool;
    }

    private static async Task<CallToolResult> ElicitAsync(McpServer server, string message, string label, RequestSchema schema, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (server.ClientCapabilities?.Elicitation is null)
        {
            return Error("The client did not declare the elicitation capability, so this tool cannot ask the user.");
        }

        var answer = await server.ElicitAsync(new ElicitRequestParams { Message = message, RequestedSchema = schema }, cancellationToken);
        var content = answer.Content is null ? "{}" : JsonSerializer.Serialize(answer.Content, McpJsonUtilities.DefaultOptions);
        return Text(string.Create(CultureInfo.InvariantCulture, $"{label}: action={answer.Action}, content={content}"));
    }

    private static async ValueTask LogAsync(McpServer server, LoggingLevel level, string message, CancellationToken cancellationToken)
    {
        // Without logging/setLevel the client gets every message; with it, only those at its level or above.
        if (server.LoggingLevel is { } threshold && level < threshold)
        {
            return;
        }

        await server.SendNotificationAsync(
            NotificationMethods.LoggingMessageNotification,
            new LoggingMessageNotificationParams { Level = level, Logger = "conformance", Data = JsonSerializer.SerializeToElement(message, McpJsonUtilities.DefaultOptions) },
            cancellationToken: cancellationToken);
    }

    private static EnumSchemaOption Option(string value, string title) => new() { Const = value, Title = title };

    private static CallToolResult Text(string text) => new() { Content = [new TextContentBlock { Text = text }] };

    private static CallToolResult Error(string text) => new() { IsError = true, Content = [new TextContentBlock { Text = text }] };
}
