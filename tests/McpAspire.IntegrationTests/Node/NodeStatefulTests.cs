using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.McpNode;
using McpAspire.McpNode.Services;
using Microsoft.Extensions.DependencyInjection;

namespace McpAspire.IntegrationTests.Node;

/// <summary>A node with <c>Mcp:Stateless=false</c>: the stateful endpoint contract, and what only a node that keeps the sessions does.</summary>
public sealed class NodeStatefulTests(NodeStatefulTests.StatefulNode fixture) : StatefulEndpointContract, IClassFixture<NodeStatefulTests.StatefulNode>
{
    private readonly ServiceHost<NodeOptions> _node = fixture.Host;

    protected override Uri McpUrl => _node.McpUrl;

    public sealed class StatefulNode() : NodeFixture(
        services =>
        {
            TestServices.AddStubbornTool(services);
            HeaderUser.Add(services);
        },
        ("Mcp:Stateless", "false"));

    [Fact]
    public async Task A_call_keeps_its_slot_after_its_client_goes_away_until_the_tool_ends()
    {
        var load = _node.Services.GetRequiredService<NodeLoad>();
        var gate = _node.Services.GetRequiredService<StubbornGate>();
        var requests = _node.Services.GetRequiredService<ActiveRequests>();
        var session = await StartSessionAsync();
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(Cancel);

        var call = Http.SendAsync(
            RawMcp.InSession(RawMcp.Post(_node.McpUrl, """{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"stubborn","arguments":{}}}"""), session),
            abandon.Token);
        await gate.Started.WaitAsync(Cancel);
        await abandon.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        // The POST is over on the server too; in a session the tool runs on, and so must its lease.
        await Eventually.UntilAsync(() => Task.FromResult(requests.Count == 0));
        var afterThePostEnded = load.InFlight;
        gate.Finish.Release();

        Assert.Equal(1, afterThePostEnded);
        await Eventually.UntilAsync(() => Task.FromResult(load.InFlight == 0));
    }
}
