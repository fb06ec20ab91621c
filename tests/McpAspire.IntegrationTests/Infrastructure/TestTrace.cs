using System.Diagnostics;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>
/// A trace of the test's own. The services run in the test's process, so their OpenTelemetry HttpClient
/// instrumentation also traces the test's requests and writes their <c>traceparent</c> from the current activity:
/// a request joins a chosen trace by being sent inside this activity, not by a header set by hand.
/// </summary>
public static class TestTrace
{
    /// <summary>Starts an activity in trace <paramref name="trace"/>; dispose it once the request is sent.</summary>
    public static Activity Start(ActivityTraceId trace) =>
        new Activity("test-client").SetParentId(trace, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded).Start();
}
