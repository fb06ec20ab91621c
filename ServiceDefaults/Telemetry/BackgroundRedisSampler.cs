using OpenTelemetry.Trace;

namespace McpAspire.ServiceDefaults.Telemetry;

/// <summary>
/// Samples every root span except a Redis command's. StackExchange.Redis's instrumentation records each command made
/// outside a trace (a heartbeat, a registry read, every second on every service) as a trace of its own, which would
/// bury the tool calls in the dashboard. Commands made within a trace are children, and the parent decides for them.
/// </summary>
internal sealed class BackgroundRedisSampler : Sampler
{
    /// <summary>The attribute the instrumentation sets on each command's span as it starts it.</summary>
    private const string DbSystem = "db.system";

    private static readonly SamplingResult Sampled = new(SamplingDecision.RecordAndSample);
    private static readonly SamplingResult Dropped = new(SamplingDecision.Drop);

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        if (samplingParameters.Tags is { } tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == DbSystem && tag.Value as string == "redis")
                {
                    return Dropped;
                }
            }
        }

        return Sampled;
    }
}
