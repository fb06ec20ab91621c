using System.Diagnostics;
using McpAspire.IntegrationTests.Infrastructure;
using OpenTelemetry.Trace;

namespace McpAspire.IntegrationTests.Telemetry;

/// <summary>
/// Whether a service starts traces of its own: without an OTLP endpoint, by default not (a root span would be recorded
/// for every request and go nowhere), while a trace its caller sampled is recorded all the same; with
/// <c>Telemetry:StartTraces=true</c> (traces leaving by another exporter), it does. An in-memory exporter stands for
/// that other exporter.
/// </summary>
public sealed class TraceStartTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(null, false)]
    [InlineData("true", true)]
    [InlineData("false", false)]
    public async Task Without_an_otlp_endpoint_a_node_starts_traces_only_when_told_and_always_records_its_callers(string? startTraces, bool startsOwn)
    {
        var spans = new List<Activity>();
        await using var node = TestServices.StartNode(
            services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans)),
            ("Node:Id", "trace-start"), ("Telemetry:StartTraces", startTraces));
        using var http = new HttpClient();

        using (var untraced = await http.SendAsync(RawMcp.Post(node.McpUrl, RawMcp.EchoCall), Cancel))
        {
            Assert.Null((await RawMcp.ReadMessageAsync(untraced))["error"]);
        }

        var trace = ActivityTraceId.CreateRandom();
        using (TestTrace.Start(trace))
        {
            using var traced = await http.SendAsync(RawMcp.Post(node.McpUrl, RawMcp.EchoCall), Cancel);
            Assert.Null((await RawMcp.ReadMessageAsync(traced))["error"]);
        }

        // Spans are exported as they end: the traced request's server span ends once its answer is written.
        await Eventually.UntilAsync(() => Task.FromResult(spans.ToArray().Any(span => span.TraceId == trace && span.Kind == ActivityKind.Server)));
        // Only this node's requests: the exporter hears every host in this test process, and other tests' hosts record
        // server spans of their own.
        var own = spans.ToArray().Where(span => span.TraceId != trace && span.Kind == ActivityKind.Server && IsOf(node, span)).ToArray();
        Assert.Equal(startsOwn, own.Length > 0);
    }

    /// <summary>Whether a server span is of a request to <paramref name="node"/>: ASP.NET Core's spans carry the port served.</summary>
    private static bool IsOf(ServiceHost<McpAspire.McpNode.NodeOptions> node, Activity span) =>
        span.GetTagItem("server.port") is int port && port == node.McpUrl.Port;

    [Fact]
    public void A_start_traces_setting_that_is_not_a_boolean_stops_the_service_naming_the_key()
    {
        var failure = Assert.ThrowsAny<Exception>(() => TestServices.StartNode(("Node:Id", "trace-start-bad"), ("Telemetry:StartTraces", "sometimes")));
        Assert.Contains("Telemetry:StartTraces must be true or false, not 'sometimes'", failure.ToString(), StringComparison.Ordinal);
    }
}
