using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.McpCoordinator;
using McpAspire.McpCoordinator.Telemetry;
using McpAspire.McpNode;

namespace McpAspire.IntegrationTests.Telemetry;

/// <summary>
/// A tool call through the coordinator, watched in-process: the MCP spans of coordinator and node form
/// one trace with the right parents and attributes, and both duration histograms are recorded.
/// </summary>
public sealed class McpTracingTests : IAsyncLifetime
{
    private const string SdkSource = "Experimental.ModelContextProtocol";

    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ConcurrentQueue<(string Instrument, Dictionary<string, object?> Tags)> _measurements = new();
    private readonly ActivityListener _listener;
    private readonly MeterListener _meters = new();
    private StoreServer _store = null!;
    private ServiceHost<NodeOptions> _node = null!;
    private ServiceHost<CoordinatorOptions> _coordinator = null!;

    public McpTracingTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is McpTelemetry.SourceName or SdkSource or "System.Net.Http" or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == McpTelemetry.SourceName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<double>((instrument, _, tags, _) =>
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }

            _measurements.Enqueue((instrument.Name, copy));
        });
    }

    public async ValueTask InitializeAsync()
    {
        ActivitySource.AddActivityListener(_listener);
        _meters.Start();
        _store = await StoreServer.StartGarnetAsync();
        _node = TestServices.StartNode(("ConnectionStrings:redis", _store.ConnectionString), ("Node:Id", "traced-node"), ("Node:HeartbeatInterval", "00:00:00.200"));
        _coordinator = TestServices.StartCoordinator(_store.ConnectionString, ("Coordinator:RegistryRefreshInterval", "00:00:00.100"));
        using var http = new HttpClient();
        await Eventually.UntilAsync(async () => (await http.GetStringAsync(new Uri(_coordinator.BaseUrl, "/api/nodes"))).Contains("traced-node", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_forwarded_tool_call_is_one_trace_from_coordinator_to_node(bool routedOnHeaders)
    {
        // The caller's own span, sent the way the conventions carry it: params._meta.traceparent. A 2026-07-28 call
        // is routed on its headers, its body unparsed, and must join the same trace.
        var caller = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        var traceparent = $"00-{caller.TraceId}-{caller.SpanId}-01";
        var meta = new JsonObject { ["traceparent"] = traceparent };
        if (routedOnHeaders)
        {
            meta["io.modelcontextprotocol/protocolVersion"] = "2026-07-28";
            meta["io.modelcontextprotocol/clientCapabilities"] = new JsonObject();
        }

        var body = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = "call-1",
            ["method"] = "tools/call",
            ["params"] = new JsonObject { ["name"] = "echo", ["arguments"] = new JsonObject { ["message"] = "traced" }, ["_meta"] = meta },
        }.ToJsonString();
        var request = RawMcp.Post(_coordinator.McpUrl, body);
        if (routedOnHeaders)
        {
            request.Headers.Add("MCP-Protocol-Version", "2026-07-28");
            request.Headers.Add("Mcp-Method", "tools/call");
            request.Headers.Add("Mcp-Name", "echo");
        }

        using var http = new HttpClient();
        using (var response = await http.SendAsync(request, TestContext.Current.CancellationToken))
        {
            var message = await RawMcp.ReadMessageAsync(response);
            Assert.Equal("traced", message["result"]!["content"]![0]!["text"]!.GetValue<string>());
        }

        var spans = await SpansOfTraceAsync(caller.TraceId, expected: span => span.Source.Name == McpTelemetry.SourceName && span.Kind == ActivityKind.Server);
        var gateway = Assert.Single(spans, span => span.Source.Name == McpTelemetry.SourceName && span.Kind == ActivityKind.Server);
        var forward = Assert.Single(spans, span => span.Source.Name == McpTelemetry.SourceName && span.Kind == ActivityKind.Client);
        var outbound = Assert.Single(spans, span => span.Source.Name == "System.Net.Http");
        var node = Assert.Single(spans, span => span.Source.Name == SdkSource && span.Kind == ActivityKind.Server);

        Assert.Equal("tools/call echo", gateway.DisplayName);
        Assert.Equal(caller.SpanId, gateway.ParentSpanId);
        Assert.Equal(gateway.SpanId, forward.ParentSpanId);
        Assert.Equal(forward.SpanId, outbound.ParentSpanId);
        // The coordinator put its own span into the forwarded _meta, so the node's MCP span hangs under it.
        Assert.Equal(forward.SpanId, node.ParentSpanId);
        Assert.Equal("tools/call echo", node.DisplayName);
        foreach (var span in new[] { gateway, forward })
        {
            Assert.Equal("tools/call", span.GetTagItem(McpTelemetry.Attributes.MethodName));
            Assert.Equal("echo", span.GetTagItem(McpTelemetry.Attributes.ToolName));

            // Routed on its headers, the call's id is not read: its body is never parsed.
            Assert.Equal(routedOnHeaders ? null : "call-1", span.GetTagItem(McpTelemetry.Attributes.RequestId));
            Assert.Null(span.GetTagItem(McpTelemetry.Attributes.ErrorType));
        }

        Assert.Equal("traced-node", forward.GetTagItem(McpTelemetry.Attributes.NodeId));
        Assert.Equal("tools/call", node.GetTagItem(McpTelemetry.Attributes.MethodName));
        Assert.Equal("echo", node.GetTagItem(McpTelemetry.Attributes.ToolName));

        Assert.Contains(_measurements, m => m.Instrument == "mcp.server.operation.duration" && Equals(m.Tags.GetValueOrDefault(McpTelemetry.Attributes.ToolName), "echo"));
        Assert.Contains(_measurements, m => m.Instrument == "mcp.client.operation.duration" && Equals(m.Tags.GetValueOrDefault(McpTelemetry.Attributes.ToolName), "echo"));
    }

    [Fact]
    public async Task Without_meta_the_gateway_span_continues_the_http_trace()
    {
        using var http = new HttpClient();
        using var request = RawMcp.Post(_coordinator.McpUrl, """{"jsonrpc":"2.0","id":5,"method":"tools/list"}""");
        var trace = ActivityTraceId.CreateRandom();
        using var inTrace = TestTrace.Start(trace);
        using (await http.SendAsync(request, TestContext.Current.CancellationToken))
        {
        }

        var spans = await SpansOfTraceAsync(trace, expected: span => span.Source.Name == McpTelemetry.SourceName);
        var httpServer = Assert.Single(spans, span => span.Source.Name == "Microsoft.AspNetCore");
        var gateway = Assert.Single(spans, span => span.Source.Name == McpTelemetry.SourceName);
        Assert.Equal("tools/list", gateway.DisplayName);
        Assert.Equal(httpServer.SpanId, gateway.ParentSpanId);
        Assert.Equal("5", gateway.GetTagItem(McpTelemetry.Attributes.RequestId));
    }

    [Fact]
    public async Task An_error_answer_sets_error_type_to_the_json_rpc_code()
    {
        using var http = new HttpClient();
        using var request = RawMcp.Post(_coordinator.McpUrl, """{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"no_such_tool"}}""");
        var trace = ActivityTraceId.CreateRandom();
        using var inTrace = TestTrace.Start(trace);
        using (var response = await http.SendAsync(request, TestContext.Current.CancellationToken))
        {
            Assert.Equal(-32602, RawMcp.ErrorCode(await RawMcp.ReadMessageAsync(response)));
        }

        var spans = await SpansOfTraceAsync(trace, expected: span => span.Source.Name == McpTelemetry.SourceName);
        var gateway = Assert.Single(spans, span => span.Source.Name == McpTelemetry.SourceName);
        Assert.Equal("tools/call no_such_tool", gateway.DisplayName);
        Assert.Equal("-32602", gateway.GetTagItem(McpTelemetry.Attributes.ErrorType));
        Assert.Equal(ActivityStatusCode.Error, gateway.Status);
        Assert.Contains(_measurements, m => m.Instrument == "mcp.server.operation.duration"
            && Equals(m.Tags.GetValueOrDefault(McpTelemetry.Attributes.ErrorType), "-32602") && Equals(m.Tags.GetValueOrDefault(McpTelemetry.Attributes.ToolName), "no_such_tool"));
    }

    /// <summary>The stopped spans of one trace, once <paramref name="expected"/> has arrived and the HTTP server span has ended.</summary>
    private async Task<Activity[]> SpansOfTraceAsync(ActivityTraceId trace, Func<Activity, bool> expected) =>
        await Eventually.WaitForAsync(() =>
        {
            var spans = _stopped.Where(span => span.TraceId == trace).ToArray();
            var done = spans.Any(expected) && spans.Any(span => span.Source.Name == "Microsoft.AspNetCore");
            return Task.FromResult(done ? spans : null);
        });

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        _meters.Dispose();
        await _coordinator.DisposeAsync();
        await _node.DisposeAsync();
        await _store.DisposeAsync();
    }
}
