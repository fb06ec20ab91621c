using System.Collections.Concurrent;
using System.Diagnostics;
using McpAspire.IntegrationTests.Infrastructure;

namespace McpAspire.IntegrationTests.Telemetry;

/// <summary>Probe traffic stays out of traces: the server activity of <c>/health</c> and <c>/alive</c> is not recorded.</summary>
public sealed class HealthTracingTests
{
    private const string ProbeSourceName = "McpAspire.IntegrationTests.Probe";

    private static readonly ActivitySource Probe = new(ProbeSourceName);

    [Fact]
    public async Task Health_and_alive_requests_are_not_recorded_while_mcp_requests_are()
    {
        var node = TestServices.StartNode(("Node:Id", "tracing-probe"));
        await using var _ = node;
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Microsoft.AspNetCore" or ProbeSourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        using var http = new HttpClient();

        // Each request runs in a trace of its own; the server's activity joins it through traceparent.
        var health = await InTraceAsync(() => http.GetAsync(new Uri(node.BaseUrl, "/health"), TestContext.Current.CancellationToken));
        var alive = await InTraceAsync(() => http.GetAsync(new Uri(node.BaseUrl, "/alive"), TestContext.Current.CancellationToken));
        var mcp = await InTraceAsync(() => RawMcp.EchoAsync(http, node.McpUrl));

        // The server stops its activity after the response has gone out, so it may land a moment later.
        Task<Activity> ServerActivityAsync(ActivityTraceId trace) => Eventually.WaitForAsync(() =>
            Task.FromResult(stopped.FirstOrDefault(activity => activity.Source.Name == "Microsoft.AspNetCore" && activity.TraceId == trace)));
        Assert.False((await ServerActivityAsync(health)).Recorded);
        Assert.False((await ServerActivityAsync(alive)).Recorded);
        Assert.True((await ServerActivityAsync(mcp)).Recorded);
    }

    private static async Task<ActivityTraceId> InTraceAsync(Func<Task> request)
    {
        using var parent = Probe.StartActivity("probe", ActivityKind.Client, parentContext: default)!;
        await request();
        return parent.TraceId;
    }
}
