namespace McpAspire.EndToEndTests;

/// <summary>A client nobody here wrote: the official TypeScript MCP SDK, against the coordinator of a real cluster.</summary>
public sealed class TypeScriptClientTests
{
    [Fact]
    public async Task The_typescript_sdk_lists_the_tools_gets_echos_text_and_reaches_every_node()
    {
        await using var cluster = await TestCluster.StartAsync(3);

        // A node's load comes from its last heartbeat, every 2 s. One that was busy then loses every choice until the
        // next, and sequential calls can all fall inside that window: so the client calls until all three answered, or
        // for as long as 2,000 calls take.
        var (seen, _) = await InteropClientTests.RunTypeScriptAsync("list-and-echo.mjs", cluster.CoordinatorMcpUrl.ToString(), "2000", "3");

        Assert.Equal(["echo", "get_capabilities"], seen["tools"]!.AsArray().Select(tool => tool!.GetValue<string>()));
        Assert.Equal("hello from TypeScript", seen["echo"]!.GetValue<string>());
        Assert.Equal(["node-1", "node-2", "node-3"], seen["nodes"]!.AsArray().Select(node => node!.GetValue<string>()));
    }
}
