namespace McpAspire.EndToEndTests;

/// <summary>A client nobody here wrote: the official TypeScript MCP SDK, against the coordinator of a real cluster.</summary>
public sealed class TypeScriptClientTests
{
    [Fact]
    public async Task The_typescript_sdk_lists_the_tools_gets_echos_text_and_reaches_every_node()
    {
        await using var cluster = await TestCluster.StartAsync(3);

        var (seen, _) = await InteropClientTests.RunTypeScriptAsync("list-and-echo.mjs", cluster.CoordinatorMcpUrl.ToString(), "200");

        Assert.Equal(["echo", "get_capabilities"], seen["tools"]!.AsArray().Select(tool => tool!.GetValue<string>()));
        Assert.Equal("hello from TypeScript", seen["echo"]!.GetValue<string>());
        Assert.Equal(["node-1", "node-2", "node-3"], seen["nodes"]!.AsArray().Select(node => node!.GetValue<string>()));
    }
}
