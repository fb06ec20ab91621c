using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.McpNode;
using McpAspire.McpNode.Packs.Conformance;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

// The pack exercises sampling, logging and legacy enums on purpose; see ConformanceTools.
#pragma warning disable MCP9001, MCP9005

namespace McpAspire.IntegrationTests.Node;

/// <summary>
/// The <c>conformance</c> pack on a stateful node, through the official C# client. The official suite's
/// checks are weak in places (any text passes some), so these pin the exact answers.
/// </summary>
public sealed class ConformancePackTests : IClassFixture<ConformancePackTests.ConformanceNode>
{
    private readonly ServiceHost<NodeOptions> _node;

    public ConformancePackTests(ConformanceNode fixture) => _node = fixture.Host;

    public sealed class ConformanceNode() : NodeFixture(("Node:Packs", "core,conformance"), ("Mcp:Stateless", "false"));

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private Task<McpClient> ConnectAsync(McpClientOptions? options = null) => OfficialClient.ConnectAsync(_node.McpUrl, options);

    [Fact]
    public async Task Every_tool_the_suite_calls_is_listed_with_a_description_a_schema_and_annotations()
    {
        await using var client = await ConnectAsync();

        var tools = (await client.ListToolsAsync(cancellationToken: Cancel)).ToDictionary(tool => tool.Name);

        string[] expected =
        [
            "test_simple_text", "test_image_content", "test_audio_content", "test_embedded_resource", "test_multiple_content_types",
            "test_tool_with_logging", "test_error_handling", "test_tool_with_progress", "test_sampling", "test_elicitation",
            "test_elicitation_sep1034_defaults", "test_elicitation_sep1330_enums", "json_schema_2020_12_tool",
        ];
        Assert.All(expected, name =>
        {
            var tool = tools[name].ProtocolTool;
            Assert.False(string.IsNullOrWhiteSpace(tool.Description));
            Assert.Equal(JsonValueKind.Object, tool.InputSchema.ValueKind);
            Assert.NotNull(tool.Annotations?.ReadOnlyHint);
            Assert.NotNull(tool.Annotations?.DestructiveHint);
            Assert.NotNull(tool.Annotations?.IdempotentHint);
            Assert.NotNull(tool.Annotations?.OpenWorldHint);
        });
        Assert.Equal("string", tools["test_sampling"].ProtocolTool.InputSchema.GetProperty("properties").GetProperty("prompt").GetProperty("type").GetString());
        Assert.Equal("string", tools["test_elicitation"].ProtocolTool.InputSchema.GetProperty("properties").GetProperty("message").GetProperty("type").GetString());
    }

    [Fact]
    public async Task The_json_schema_2020_12_tool_is_listed_exactly_as_written_and_its_schema_is_enforced()
    {
        await using var client = await ConnectAsync();
        var tool = (await client.ListToolsAsync(cancellationToken: Cancel)).Single(tool => tool.Name == "json_schema_2020_12_tool").ProtocolTool;
        var schema = tool.InputSchema;

        Assert.Equal("https://json-schema.org/draft/2020-12/schema", schema.GetProperty("$schema").GetString());
        Assert.Equal("#/$defs/address", schema.GetProperty("properties").GetProperty("address").GetProperty("$ref").GetString());
        Assert.Equal("object", schema.GetProperty("$defs").GetProperty("address").GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.False, schema.GetProperty("additionalProperties").ValueKind);

        var good = await client.CallToolAsync("json_schema_2020_12_tool",
            new Dictionary<string, object?> { ["name"] = "Ada", ["address"] = new { street = "1 Main St", city = "London" } }, cancellationToken: Cancel);
        var extra = await client.CallToolAsync("json_schema_2020_12_tool",
            new Dictionary<string, object?> { ["name"] = "Ada", ["nickname"] = "A" }, cancellationToken: Cancel);
        var badStreet = await client.CallToolAsync("json_schema_2020_12_tool",
            new Dictionary<string, object?> { ["address"] = new { street = 12 } }, cancellationToken: Cancel);

        Assert.NotEqual(true, good.IsError);
        Assert.Contains("London", TextOf(good), StringComparison.Ordinal);
        Assert.True(extra.IsError);
        Assert.Contains("'nickname' is not a known argument", TextOf(extra), StringComparison.Ordinal);
        Assert.True(badStreet.IsError);
        Assert.Contains("'address.street' must be a string", TextOf(badStreet), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Content_tools_return_their_exact_blocks()
    {
        await using var client = await ConnectAsync();

        var text = await client.CallToolAsync("test_simple_text", cancellationToken: Cancel);
        var image = Assert.IsType<ImageContentBlock>(Assert.Single((await client.CallToolAsync("test_image_content", cancellationToken: Cancel)).Content));
        var audio = Assert.IsType<AudioContentBlock>(Assert.Single((await client.CallToolAsync("test_audio_content", cancellationToken: Cancel)).Content));
        var embedded = Assert.IsType<EmbeddedResourceBlock>(Assert.Single((await client.CallToolAsync("test_embedded_resource", cancellationToken: Cancel)).Content));
        var mixed = (await client.CallToolAsync("test_multiple_content_types", cancellationToken: Cancel)).Content;

        Assert.Equal("This is a simple text response for testing.", TextOf(text));
        Assert.Equal("image/png", image.MimeType);
        Assert.Equal(ConformanceMedia.Png.ToArray(), image.DecodedData.ToArray());
        Assert.Equal("audio/wav", audio.MimeType);
        Assert.Equal("RIFF"u8.ToArray(), audio.DecodedData[..4].ToArray());
        var resource = Assert.IsType<TextResourceContents>(embedded.Resource);
        Assert.Equal(("test://embedded-resource", "text/plain", "This is an embedded resource content."), (resource.Uri, resource.MimeType, resource.Text));
        Assert.Collection(
            mixed,
            block => Assert.Equal("Multiple content types test:", Assert.IsType<TextContentBlock>(block).Text),
            block => Assert.Equal("image/png", Assert.IsType<ImageContentBlock>(block).MimeType),
            block =>
            {
                var json = Assert.IsType<TextResourceContents>(Assert.IsType<EmbeddedResourceBlock>(block).Resource);
                Assert.Equal("application/json", json.MimeType);
                Assert.Equal(123, JsonNode.Parse(json.Text)!["value"]!.GetValue<int>());
            });
    }

    [Fact]
    public async Task The_error_tool_returns_an_error_result_not_a_protocol_error()
    {
        await using var client = await ConnectAsync();

        var result = await client.CallToolAsync("test_error_handling", cancellationToken: Cancel);

        Assert.True(result.IsError);
        Assert.Equal("This tool intentionally returns an error for testing", TextOf(result));
    }

    [Fact]
    public async Task The_logging_tool_sends_three_messages_in_order_at_debug_and_none_at_warning()
    {
        var messages = new ConcurrentQueue<LoggingMessageNotificationParams>();
        await using var client = await ConnectAsync(new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                NotificationHandlers =
                [
                    new(NotificationMethods.LoggingMessageNotification, (notification, _) =>
                    {
                        messages.Enqueue(JsonSerializer.Deserialize<LoggingMessageNotificationParams>(notification.Params, McpJsonUtilities.DefaultOptions)!);
                        return ValueTask.CompletedTask;
                    }),
                ],
            },
        });

        await client.SetLoggingLevelAsync(LoggingLevel.Debug, cancellationToken: Cancel);
        await client.CallToolAsync("test_tool_with_logging", cancellationToken: Cancel);
        await Eventually.UntilAsync(() => Task.FromResult(messages.Count >= 3));
        var atDebug = messages.Select(message => message.Data.GetString()!).ToArray();
        await client.SetLoggingLevelAsync(LoggingLevel.Warning, cancellationToken: Cancel);
        await client.CallToolAsync("test_tool_with_logging", cancellationToken: Cancel);
        await client.PingAsync(cancellationToken: Cancel);

        Assert.Equal(["Tool execution started", "Tool processing data", "Tool execution completed"], atDebug);
        Assert.All(messages, message => Assert.Equal(LoggingLevel.Info, message.Level));
        Assert.Equal(3, messages.Count);
    }

    [Fact]
    public async Task On_the_wire_progress_is_0_50_100_then_the_result()
    {
        using var http = new HttpClient();
        var session = await RawMcp.StartSessionAsync(http, _node.McpUrl);

        using var response = await http.SendAsync(
            RawMcp.InSession(RawMcp.Post(_node.McpUrl, """{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"test_tool_with_progress","arguments":{},"_meta":{"progressToken":"progress-test-1"}}}"""), session),
            Cancel);
        var events = await RawMcp.ReadEventsAsync(response);

        Assert.Equal(4, events.Length);
        Assert.Equal([0.0, 50.0, 100.0], events[..3].Select(message => message["params"]!["progress"]!.GetValue<double>()));
        Assert.All(events[..3], message => Assert.Equal("progress-test-1", message["params"]!["progressToken"]!.GetValue<string>()));
        Assert.All(events[..3], message => Assert.Equal(100, message["params"]!["total"]!.GetValue<double>()));
        Assert.Equal(5, events[3]["id"]!.GetValue<int>());
        Assert.NotNull(events[3]["result"]);
    }

    [Fact]
    public async Task Sampling_asks_the_clients_model_with_the_prompt_and_returns_its_answer()
    {
        CreateMessageRequestParams? asked = null;
        await using var client = await ConnectAsync(new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                SamplingHandler = (request, _, _) =>
                {
                    asked = request;
                    return ValueTask.FromResult(new CreateMessageResult
                    {
                        Model = "test-model",
                        Role = Role.Assistant,
                        Content = [new TextContentBlock { Text = "forty-two" }],
                    });
                },
            },
        });

        var result = await client.CallToolAsync("test_sampling", new Dictionary<string, object?> { ["prompt"] = "What is the answer?" }, cancellationToken: Cancel);

        Assert.NotEqual(true, result.IsError);
        Assert.Equal("LLM response: forty-two", TextOf(result));
        Assert.Equal(100, asked!.MaxTokens);
        var message = Assert.Single(asked.Messages);
        Assert.Equal(Role.User, message.Role);
        Assert.Equal("What is the answer?", Assert.IsType<TextContentBlock>(Assert.Single(message.Content)).Text);
    }

    [Fact]
    public async Task Without_the_sampling_capability_the_sampling_tool_says_so_in_an_error_result()
    {
        await using var client = await ConnectAsync();

        var result = await client.CallToolAsync("test_sampling", new Dictionary<string, object?> { ["prompt"] = "hi" }, cancellationToken: Cancel);
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "still here" }, cancellationToken: Cancel);

        Assert.True(result.IsError);
        Assert.Contains("sampling capability", TextOf(result), StringComparison.Ordinal);
        Assert.Equal("still here", TextOf(echo));
    }

    [Fact]
    public async Task Elicitation_asks_for_user_name_and_email_and_returns_the_answer()
    {
        var (asked, result) = await ElicitThroughAsync(
            "test_elicitation",
            new ElicitResult
            {
                Action = "accept",
                Content = new Dictionary<string, JsonElement> { ["username"] = JsonSerializer.SerializeToElement("ada"), ["email"] = JsonSerializer.SerializeToElement("ada@example.com") },
            },
            new Dictionary<string, object?> { ["message"] = "Who are you?" });

        Assert.Equal("Who are you?", asked.Message);
        Assert.Equal(["email", "username"], asked.RequestedSchema!.Properties.Keys.Order());
        Assert.Equal(["username", "email"], asked.RequestedSchema.Required!);
        Assert.StartsWith("User response: action=accept, content=", TextOf(result), StringComparison.Ordinal);
        Assert.Contains("ada@example.com", TextOf(result), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_defaults_form_offers_a_default_for_every_field()
    {
        var (asked, result) = await ElicitThroughAsync("test_elicitation_sep1034_defaults", new ElicitResult { Action = "decline" });

        var schema = PropertiesOf(asked);
        Assert.Equal("John Doe", schema["name"]!["default"]!.GetValue<string>());
        Assert.Equal("integer", schema["age"]!["type"]!.GetValue<string>());
        Assert.Equal(30, schema["age"]!["default"]!.GetValue<double>());
        Assert.Equal(95.5, schema["score"]!["default"]!.GetValue<double>());
        Assert.Equal("active", schema["status"]!["default"]!.GetValue<string>());
        Assert.Equal(["active", "inactive", "pending"], schema["status"]!["enum"]!.AsArray().Select(value => value!.GetValue<string>()));
        Assert.True(schema["verified"]!["default"]!.GetValue<bool>());
        Assert.Equal("Elicitation completed: action=decline, content={}", TextOf(result));
    }

    [Fact]
    public async Task The_enums_form_has_all_five_enum_shapes()
    {
        var (asked, result) = await ElicitThroughAsync("test_elicitation_sep1330_enums", new ElicitResult { Action = "cancel" });

        var schema = PropertiesOf(asked);
        Assert.Equal(3, schema["untitledSingle"]!["enum"]!.AsArray().Count);
        Assert.Equal("First Option", schema["titledSingle"]!["oneOf"]![0]!["title"]!.GetValue<string>());
        Assert.Equal("Option One", schema["legacyEnum"]!["enumNames"]![0]!.GetValue<string>());
        Assert.Equal("array", schema["untitledMulti"]!["type"]!.GetValue<string>());
        Assert.Equal(3, schema["untitledMulti"]!["items"]!["enum"]!.AsArray().Count);
        Assert.Equal("value1", schema["titledMulti"]!["items"]!["anyOf"]![0]!["const"]!.GetValue<string>());
        Assert.Equal("Elicitation completed: action=cancel, content={}", TextOf(result));
    }

    [Fact]
    public async Task Resources_list_and_read_with_their_exact_contents()
    {
        await using var client = await ConnectAsync();

        var resources = await client.ListResourcesAsync(cancellationToken: Cancel);
        var templates = await client.ListResourceTemplatesAsync(cancellationToken: Cancel);
        var text = Assert.IsType<TextResourceContents>(Assert.Single((await client.ReadResourceAsync("test://static-text", cancellationToken: Cancel)).Contents));
        var binary = Assert.IsType<BlobResourceContents>(Assert.Single((await client.ReadResourceAsync("test://static-binary", cancellationToken: Cancel)).Contents));
        var fromTemplate = Assert.IsType<TextResourceContents>(Assert.Single((await client.ReadResourceAsync("test://template/123/data", cancellationToken: Cancel)).Contents));

        Assert.Equal(["test://static-binary", "test://static-text", "test://watched-resource"], resources.Select(resource => resource.Uri).Order());
        Assert.All(resources, resource => Assert.False(string.IsNullOrWhiteSpace(resource.ProtocolResource.Description)));
        Assert.Equal("test://template/{id}/data", Assert.Single(templates).UriTemplate);
        Assert.Equal(("text/plain", "This is the content of the static text resource."), (text.MimeType, text.Text));
        Assert.Equal(("test://static-binary", "image/png"), (binary.Uri, binary.MimeType));
        Assert.Equal(ConformanceMedia.Png.ToArray(), binary.DecodedData.ToArray());
        Assert.Equal("test://template/123/data", fromTemplate.Uri);
        var document = JsonNode.Parse(fromTemplate.Text)!;
        Assert.Equal(("123", true, "Data for ID: 123"), (document["id"]!.GetValue<string>(), document["templateTest"]!.GetValue<bool>(), document["data"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_template_id_with_quotes_still_makes_valid_json()
    {
        await using var client = await ConnectAsync();

        var contents = Assert.IsType<TextResourceContents>(Assert.Single((await client.ReadResourceAsync("test://template/a%22b/data", cancellationToken: Cancel)).Contents));

        Assert.NotNull(JsonNode.Parse(contents.Text)!["id"]);
    }

    [Fact]
    public async Task Subscriptions_are_kept_per_session_and_unknown_resources_are_refused()
    {
        await using var client = await ConnectAsync();
        await using var other = await ConnectAsync();

        await client.SubscribeToResourceAsync(ConformanceResources.WatchedUri, cancellationToken: Cancel);
        var unknown = await Assert.ThrowsAsync<McpProtocolException>(() => client.SubscribeToResourceAsync("test://no-such-resource", cancellationToken: Cancel));
        await client.UnsubscribeFromResourceAsync(ConformanceResources.WatchedUri, cancellationToken: Cancel);
        await other.UnsubscribeFromResourceAsync(ConformanceResources.WatchedUri, cancellationToken: Cancel);

        Assert.True(client.ServerCapabilities.Resources?.Subscribe);
        Assert.Equal(McpErrorCode.ResourceNotFound, unknown.ErrorCode);
        Assert.Contains("test://no-such-resource", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prompts_list_and_get_with_arguments_resources_and_images()
    {
        await using var client = await ConnectAsync();

        var prompts = await client.ListPromptsAsync(cancellationToken: Cancel);
        var simple = await client.GetPromptAsync("test_simple_prompt", cancellationToken: Cancel);
        var withArguments = await client.GetPromptAsync(ConformancePrompts.WithArgumentsName,
            new Dictionary<string, object?> { ["arg1"] = "hello", ["arg2"] = "world" }, cancellationToken: Cancel);
        var withResource = await client.GetPromptAsync("test_prompt_with_embedded_resource",
            new Dictionary<string, object?> { ["resourceUri"] = "test://example-resource" }, cancellationToken: Cancel);
        var withImage = await client.GetPromptAsync("test_prompt_with_image", cancellationToken: Cancel);

        Assert.Equal(["test_prompt_with_arguments", "test_prompt_with_embedded_resource", "test_prompt_with_image", "test_simple_prompt"], prompts.Select(prompt => prompt.Name).Order());
        Assert.All(prompts, prompt => Assert.False(string.IsNullOrWhiteSpace(prompt.Description)));
        Assert.Equal(["arg1", "arg2"], prompts.Single(prompt => prompt.Name == ConformancePrompts.WithArgumentsName).ProtocolPrompt.Arguments!.Select(argument => argument.Name));
        Assert.Equal("This is a simple prompt for testing.", Assert.IsType<TextContentBlock>(Assert.Single(simple.Messages).Content).Text);
        Assert.Equal("Prompt with arguments: arg1='hello', arg2='world'", Assert.IsType<TextContentBlock>(Assert.Single(withArguments.Messages).Content).Text);
        Assert.Equal("test://example-resource", Assert.IsType<EmbeddedResourceBlock>(withResource.Messages[0].Content).Resource.Uri);
        Assert.Equal(ConformanceMedia.Png.ToArray(), Assert.IsType<ImageContentBlock>(withImage.Messages[0].Content).DecodedData.ToArray());
    }

    [Fact]
    public async Task Completion_suggests_prompt_argument_values_that_start_with_the_typed_text()
    {
        await using var client = await ConnectAsync();
        var prompt = new PromptReference { Name = ConformancePrompts.WithArgumentsName };

        var he = await client.CompleteAsync(prompt, "arg1", "he", cancellationToken: Cancel);
        var none = await client.CompleteAsync(prompt, "arg2", "zzz", cancellationToken: Cancel);
        var otherPrompt = await client.CompleteAsync(new PromptReference { Name = "test_simple_prompt" }, "x", "", cancellationToken: Cancel);

        Assert.Equal(["hello", "help"], he.Completion.Values);
        Assert.Empty(none.Completion.Values);
        Assert.Empty(otherPrompt.Completion.Values);
    }

    /// <summary>Calls an elicitation tool from a client that answers with <paramref name="answer"/>; returns what it was asked and the result.</summary>
    private async Task<(ElicitRequestParams Asked, CallToolResult Result)> ElicitThroughAsync(string tool, ElicitResult answer, Dictionary<string, object?>? arguments = null)
    {
        ElicitRequestParams? asked = null;
        await using var client = await ConnectAsync(new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                ElicitationHandler = (request, _) =>
                {
                    asked = request;
                    return ValueTask.FromResult(answer);
                },
            },
        });

        var result = await client.CallToolAsync(tool, arguments, cancellationToken: Cancel);
        Assert.NotNull(asked);
        return (asked, result);
    }

    private static JsonNode PropertiesOf(ElicitRequestParams asked) =>
        JsonSerializer.SerializeToNode(asked.RequestedSchema, McpJsonUtilities.DefaultOptions)!["properties"]!;

    private static string TextOf(CallToolResult result) => Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
}
