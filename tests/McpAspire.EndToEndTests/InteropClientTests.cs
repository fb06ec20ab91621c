using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using McpAspire.Tests.Shared;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpAspire.EndToEndTests;

/// <summary>
/// Clients nobody here wrote, the official TypeScript and C# MCP SDKs, run the interop script against real
/// processes: a node and the coordinator (in front of a node), each stateless and stateful.
/// The script lists the tools, calls echo, gets progress from process_dataset and cancels a long one.
/// </summary>
public sealed class InteropClientTests(InteropClientTests.Clusters clusters) : IClassFixture<InteropClientTests.Clusters>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>One cluster per endpoint mode, each with a single node serving the core and data packs.</summary>
    public sealed class Clusters : IAsyncLifetime
    {
        public TestCluster Stateless { get; private set; } = null!;

        public TestCluster Stateful { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            Stateless = await StartAsync(stateless: true);
            Stateful = await StartAsync(stateless: false);
        }

        public async ValueTask DisposeAsync()
        {
            await Stateless.DisposeAsync();
            await Stateful.DisposeAsync();
        }

        private static Task<TestCluster> StartAsync(bool stateless) =>
            TestCluster.StartAsync(1, ("Node__Packs", "core,data"), ("Mcp__Stateless", stateless ? "true" : "false"), ("Node__RequireClusterCredential", "false"));
    }

    [Theory]
    [InlineData("node", "stateless")]
    [InlineData("node", "stateful")]
    [InlineData("coordinator", "stateless")]
    [InlineData("coordinator", "stateful")]
    public async Task The_typescript_sdk_lists_calls_gets_progress_and_cancels(string target, string mode)
    {
        var (seen, output) = await RunTypeScriptAsync("progress-and-cancel.mjs", UrlOf(target, mode).ToString());

        Assert.Equal(["echo", "get_capabilities", "process_dataset"], seen["tools"]!.AsArray().Select(tool => tool!.GetValue<string>()));
        Assert.Equal("hello from TypeScript", seen["echo"]!.GetValue<string>());
        Assert.Equal(20, seen["processed"]!.GetValue<int>());
        Assert.True(seen["progress"]!.GetValue<int>() >= 1 && seen["progressInOrder"]!.GetValue<bool>());
        Assert.True(seen["cancelled"]!.GetValue<bool>());
        Assert.Equal(mode == "stateful", seen["session"]!.GetValue<bool>());
        if (mode == "stateful")
        {
            // In a session the client's notifications/cancelled reaches the server running the call. Without
            // one it reaches a server of its own, so the call runs on (see docs/protocol.md, cancellation).
            Assert.True(seen["stoppedOnServer"]!.GetValue<bool>(), $"the cancelled call still ran on the node: {output}");
        }
    }

    [Theory]
    [InlineData("node", "stateless", "2026-07-28")]
    [InlineData("node", "stateful", "2025-11-25")]
    [InlineData("coordinator", "stateless", "2026-07-28")]
    [InlineData("coordinator", "stateful", "2025-11-25")]
    public async Task The_csharp_sdk_lists_calls_gets_progress_and_cancels(string target, string mode, string negotiated)
    {
        await using var client = await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions { Endpoint = UrlOf(target, mode), TransportMode = HttpTransportMode.StreamableHttp }),
            cancellationToken: Cancel);

        var tools = await client.ListToolsAsync(cancellationToken: Cancel);
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hello from C#" }, cancellationToken: Cancel);
        var progress = new Collected();
        var summary = await client.CallToolAsync("process_dataset", new Dictionary<string, object?> { ["count"] = 20, ["delayMs"] = 5 }, progress, cancellationToken: Cancel);

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        var cancelling = new Collected(cancel.Cancel);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            client.CallToolAsync("process_dataset", new Dictionary<string, object?> { ["count"] = 3000, ["delayMs"] = 10 }, cancelling, cancellationToken: cancel.Token).AsTask());

        Assert.Equal(negotiated, client.NegotiatedProtocolVersion);
        Assert.Equal(["echo", "get_capabilities", "process_dataset"], tools.Select(tool => tool.Name).Order());
        Assert.Equal("hello from C#", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);
        Assert.Equal(20, summary.StructuredContent!.Value.GetProperty("count").GetInt32());
        // The client may hand notifications to IProgress concurrently, so only the set of values is checked.
        Assert.NotEmpty(progress.Values);
        Assert.Equal(progress.Values.Length, progress.Values.Distinct().Count());
        Assert.All(progress.Values, value => Assert.InRange(value, 1, 20));
        if (mode == "stateless")
        {
            // The C# client cancels by closing the call's stream, which stops a call served without a session.
            // In a session, SDK 2.3.1 sends no notifications/cancelled, so the node cannot tell (docs/protocol.md).
            Assert.True(await NothingElseInFlightAsync(client), "the cancelled call still ran on the node");
        }
    }

    private Uri UrlOf(string target, string mode)
    {
        var cluster = mode == "stateful" ? clusters.Stateful : clusters.Stateless;
        return target == "coordinator" ? cluster.CoordinatorMcpUrl : cluster.McpUrlOf("node-1");
    }

    /// <summary>Whether get_capabilities soon reports itself as the only call running.</summary>
    private static async Task<bool> NothingElseInFlightAsync(McpClient client)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var capabilities = await client.CallToolAsync("get_capabilities", cancellationToken: Cancel);
            if (capabilities.StructuredContent!.Value.GetProperty("load").GetProperty("inFlight").GetInt32() == 1)
            {
                return true;
            }

            await Task.Delay(100, Cancel);
        }

        return false;
    }

    /// <summary>Runs a script of <c>tests/interop</c> (see <see cref="TypeScriptClient"/>).</summary>
    internal static Task<(JsonNode Seen, string Output)> RunTypeScriptAsync(params string[] arguments) =>
        TypeScriptClient.RunAsync(Repository.InteropDirectory, environment: null, arguments);

    /// <summary>Progress values as they arrive, in order; optionally acting on the first.</summary>
    private sealed class Collected(Action? onFirst = null) : IProgress<ProgressNotificationValue>
    {
        private readonly ConcurrentQueue<float> _values = new();

        public float[] Values => [.. _values];

        public void Report(ProgressNotificationValue value)
        {
            _values.Enqueue(value.Progress);
            if (_values.Count == 1)
            {
                onFirst?.Invoke();
            }
        }
    }
}
