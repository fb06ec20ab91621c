using System.Diagnostics.Metrics;

namespace McpAspire.McpCoordinator.Registry;

/// <summary>The registry's metrics: what reading the store costs, and what it rejects.</summary>
public static class RegistryMetrics
{
    /// <summary>The name of the <see cref="Meter"/>.</summary>
    public const string MeterName = "McpAspire.Registry";

    private static readonly Meter Meter = new(MeterName, typeof(RegistryMetrics).Assembly.GetName().Version?.ToString(3));

    /// <summary>Bytes of heartbeats and tool definitions the registry read from the store.</summary>
    internal static readonly Counter<long> BytesRead = Meter.CreateCounter<long>(
        "mcpaspire.registry.read.size", "By", "Bytes of registry records the coordinator read from the store.");

    /// <summary>Records rejected, counted once each time one is first rejected or its reason changes.</summary>
    internal static readonly Counter<long> Rejections = Meter.CreateCounter<long>(
        "mcpaspire.registry.rejections", "{record}", "Registry records the coordinator rejected.");
}
