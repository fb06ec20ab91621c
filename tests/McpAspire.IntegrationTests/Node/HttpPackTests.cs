using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpAspire.IntegrationTests.Http;
using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.McpNode;
using Microsoft.AspNetCore.Http;

namespace McpAspire.IntegrationTests.Node;

/// <summary>The <c>http</c> pack against a real upstream that goes down on purpose.</summary>
public sealed class HttpPackTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static async Task<JsonObject> FetchAsync(Uri mcpUrl, string path)
    {
        using var http = new HttpClient();
        var body = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = 1,
            ["method"] = "tools/call",
            ["params"] = new JsonObject { ["name"] = "fetch_json", ["arguments"] = new JsonObject { ["path"] = path } },
        };
        using var response = await http.SendAsync(RawMcp.Post(mcpUrl, body.ToJsonString()), Cancel);
        return (JsonObject)(await RawMcp.ReadMessageAsync(response))["result"]!;
    }

    private static ServiceHost<NodeOptions> StartNode(Uri upstream, out Uri mcpUrl)
    {
        var node = TestServices.StartNode(
            ("Node:Id", "http-1"), ("Node:Packs", "core,http"), ("HttpPack:UpstreamBaseUrl", new Uri(upstream, "/api/").ToString()),
            ("HttpResilience:Retry:Delay", "00:00:00.010"), ("HttpResilience:Retry:UseJitter", "false"));
        mcpUrl = node.McpUrl;
        return node;
    }

    [Fact]
    public async Task A_fresh_answer_then_the_last_good_one_marked_stale_while_the_upstream_is_down()
    {
        var down = false;
        var served = 0;
        await using var upstream = await MisbehavingServer.StartAsync(async (_, context) =>
        {
            if (Volatile.Read(ref down))
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }

            Interlocked.Increment(ref served);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync($$"""{"path":"{{context.Request.Path}}","query":"{{context.Request.QueryString}}"}""");
        });
        await using var node = StartNode(upstream.Address, out var mcpUrl);

        var fresh = await FetchAsync(mcpUrl, "items/42?verbose=true");
        Volatile.Write(ref down, true);
        var stale = await FetchAsync(mcpUrl, "items/42?verbose=true");
        var never = await FetchAsync(mcpUrl, "items/7");

        Assert.NotEqual(true, fresh["isError"]?.GetValue<bool>());
        Assert.Equal("fresh", fresh["structuredContent"]!["freshness"]!.GetValue<string>());
        Assert.Equal("/api/items/42", fresh["structuredContent"]!["data"]!["path"]!.GetValue<string>());
        Assert.Equal("stale", stale["structuredContent"]!["freshness"]!.GetValue<string>());
        Assert.True(stale["structuredContent"]!["ageSeconds"]!.GetValue<double>() >= 0);
        Assert.Equal("/api/items/42", stale["structuredContent"]!["data"]!["path"]!.GetValue<string>());
        Assert.Contains("503", stale["structuredContent"]!["note"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(never["isError"]!.GetValue<bool>());
        Assert.Contains("upstream is unavailable", never["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, served);
    }

    [Fact]
    public async Task Transient_upstream_failures_are_retried_by_the_standard_pipeline()
    {
        await using var upstream = await MisbehavingServer.StartAsync(async (n, context) =>
        {
            if (n <= 2)
            {
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
                return;
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"ok":true}""");
        });
        await using var node = StartNode(upstream.Address, out var mcpUrl);

        var result = await FetchAsync(mcpUrl, "status");

        Assert.Equal("fresh", result["structuredContent"]!["freshness"]!.GetValue<string>());
        Assert.Equal(3, upstream.Requests);
    }

    [Theory]
    [InlineData("http://evil.example/steal")]
    [InlineData("//evil.example/steal")]
    [InlineData("/admin")]
    [InlineData("../admin")]
    [InlineData("items/../../admin")]
    [InlineData("items%2f..%2f..%2fadmin")]
    [InlineData("..\\admin")]
    [InlineData("")]
    public async Task Only_paths_under_the_upstream_are_allowed(string path)
    {
        await using var upstream = await MisbehavingServer.StartAsync((_, context) => MisbehavingServer.Status(context, HttpStatusCode.OK));
        await using var node = StartNode(upstream.Address, out var mcpUrl);

        var result = await FetchAsync(mcpUrl, path);

        Assert.True(result["isError"]!.GetValue<bool>());
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task A_redirect_is_not_followed()
    {
        await using var elsewhere = await MisbehavingServer.StartAsync((_, context) => context.Response.WriteAsync("""{"stolen":true}"""));
        await using var upstream = await MisbehavingServer.StartAsync((_, context) =>
        {
            context.Response.Redirect(new Uri(elsewhere.Address, "/internal").ToString());
            return Task.CompletedTask;
        });
        await using var node = StartNode(upstream.Address, out var mcpUrl);

        var result = await FetchAsync(mcpUrl, "open-redirect");

        Assert.True(result["isError"]!.GetValue<bool>());
        Assert.Contains("redirects are not followed", result["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, elsewhere.Requests);
    }

    [Fact]
    public async Task A_client_error_from_the_upstream_is_reported_not_hidden_behind_a_stale_answer()
    {
        await using var upstream = await MisbehavingServer.StartAsync((_, context) => MisbehavingServer.Status(context, HttpStatusCode.NotFound));
        await using var node = StartNode(upstream.Address, out var mcpUrl);
        await using var client = await OfficialClient.ConnectAsync(mcpUrl);

        var result = await client.CallToolAsync("fetch_json", new Dictionary<string, object?> { ["path"] = "missing" }, cancellationToken: Cancel);

        Assert.True(result.IsError);
        Assert.Contains("404", JsonSerializer.Serialize(result.Content), StringComparison.Ordinal);
    }
}
