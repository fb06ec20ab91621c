using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpAspire.McpCoordinator.Registry;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpAspire.UnitTests.Coordinator;

public sealed class ToolListingTests
{
    private static readonly ToolListing Listing = new(
    [
        new Tool { Name = "alpha", Description = "First.", InputSchema = JsonElement.Parse("""{"type":"object","properties":{"q":{"type":"string"}}}""") },
        new Tool { Name = "beta", Annotations = new ToolAnnotations { ReadOnlyHint = true }, Meta = new JsonObject { ["io.mcpaspire/pack"] = "demo" } },
        new Tool { Name = "gamma/é", Title = "Unicode \"quoted\"" },
    ]);

    [Theory]
    [InlineData("", 0)]
    [InlineData("alpha", 1)]
    [InlineData("alph", 0)]
    [InlineData("alpha0", 1)]
    [InlineData("beta", 2)]
    [InlineData("gamma/é", 3)]
    [InlineData("zzz", 3)]
    public void The_page_after_a_name_starts_at_the_first_tool_that_sorts_after_it(string name, int expected) =>
        Assert.Equal(expected, Listing.IndexAfter(name));

    [Fact]
    public void An_empty_listing_starts_and_ends_at_zero() => Assert.Equal(0, new ToolListing([]).IndexAfter("anything"));

    [Theory]
    [InlineData(null, false)]
    [InlineData("dG9vbHMtYWZ0ZXI6YmV0YQ", false)]
    [InlineData(null, true)]
    [InlineData("dG9vbHMtYWZ0ZXI6YmV0YQ", true)]
    public void An_answer_is_what_the_SDK_would_write_for_the_same_result(string? nextCursor, bool uncacheable)
    {
        foreach (var id in (RequestId[])[new RequestId(7), new RequestId("req-\"1\"")])
        {
            var output = new ArrayBufferWriter<byte>();
            Listing.WriteAnswer(output, id, [0, 2], nextCursor, uncacheable);

            var expected = JsonSerializer.SerializeToNode(new JsonRpcResponse
            {
                Id = id,
                Result = JsonSerializer.SerializeToNode(
                    new ListToolsResult
                    {
                        Tools = [Listing.Tools[0], Listing.Tools[2]],
                        NextCursor = nextCursor,
                        TimeToLive = uncacheable ? TimeSpan.Zero : null,
                        CacheScope = uncacheable ? CacheScope.Private : null,
                    },
                    McpJsonUtilities.DefaultOptions),
            }, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage)));
            Assert.True(JsonNode.DeepEquals(expected, JsonNode.Parse(output.WrittenSpan)), $"{expected}\n{System.Text.Encoding.UTF8.GetString(output.WrittenSpan)}");
        }
    }

    [Fact]
    public void An_answer_reads_back_as_the_same_tools()
    {
        var output = new ArrayBufferWriter<byte>();
        Listing.WriteAnswer(output, new RequestId(1), [0, 1, 2], nextCursor: null, uncacheable: false);

        var response = Assert.IsType<JsonRpcResponse>(JsonSerializer.Deserialize<JsonRpcMessage>(output.WrittenSpan, McpJsonUtilities.DefaultOptions));
        var result = response.Result.Deserialize<ListToolsResult>(McpJsonUtilities.DefaultOptions)!;
        Assert.Equal(["alpha", "beta", "gamma/é"], result.Tools.Select(tool => tool.Name));
        Assert.True(result.Tools[1].Annotations!.ReadOnlyHint);
        Assert.Equal("demo", result.Tools[1].Meta!["io.mcpaspire/pack"]!.GetValue<string>());
        Assert.Null(result.NextCursor);
    }
}
