using System.ComponentModel.DataAnnotations;

namespace McpAspire.McpCoordinator.Registry;

/// <summary>
/// Limits on what the registry reads from the store, bound from <c>Coordinator:Registry</c> and validated at
/// start-up. A record past a limit is rejected (and shows in <c>/api/nodes</c> with the reason); the coordinator
/// goes on with the rest.
/// </summary>
public sealed class RegistryOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Coordinator:Registry";

    /// <summary>The most nodes the registry follows. Past it, nodes it already follows keep their place, then the lowest ids.</summary>
    [Range(1, 100_000, ErrorMessage = "Coordinator:Registry:MaxNodes must be between 1 and 100000.")]
    public int MaxNodes { get; set; } = 1000;

    /// <summary>The largest heartbeat record read; a node's heartbeat is well under 2 KiB.</summary>
    [Range(1024, 1024 * 1024, ErrorMessage = "Coordinator:Registry:MaxHeartbeatBytes must be between 1024 and 1048576.")]
    public int MaxHeartbeatBytes { get; set; } = 16 * 1024;

    /// <summary>The largest tool definitions record read: all of one node's tools, as <c>tools/list</c> returns them.</summary>
    [Range(1024, 64 * 1024 * 1024, ErrorMessage = "Coordinator:Registry:MaxToolsBytes must be between 1024 and 67108864.")]
    public int MaxToolsBytes { get; set; } = 1024 * 1024;

    /// <summary>The most tools one node may define.</summary>
    [Range(1, 100_000, ErrorMessage = "Coordinator:Registry:MaxToolsPerNode must be between 1 and 100000.")]
    public int MaxToolsPerNode { get; set; } = 1000;

    /// <summary>The largest record of resources, resource templates and prompts read (<see cref="Cluster.PrimitiveCatalog"/>).</summary>
    [Range(1024, 64 * 1024 * 1024, ErrorMessage = "Coordinator:Registry:MaxPrimitivesBytes must be between 1024 and 67108864.")]
    public int MaxPrimitivesBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// The most resources, the most resource templates and the most prompts one node or server may list (each). An
    /// external server that lists more has only the first ones served.
    /// </summary>
    [Range(1, 100_000, ErrorMessage = "Coordinator:Registry:MaxPrimitivesPerNode must be between 1 and 100000.")]
    public int MaxPrimitivesPerNode { get; set; } = 1000;

    /// <summary>How far in the future a heartbeat's send time may be, for clocks that differ between machines.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "Coordinator:Registry:MaxClockSkew must be between 0 and 10 minutes.")]
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}
