using System.ComponentModel.DataAnnotations;

namespace McpAspire.ServiceDefaults.Hosting;

/// <summary>
/// How a service stops on SIGTERM or Ctrl+C, bound from the <c>Shutdown</c> section. Services that
/// announce themselves withdraw first, in the host's stopping phase (a node deregisters); then hosted
/// services stop in reverse order of registration, and Kestrel stops accepting and lets in-flight
/// requests finish. <see cref="Timeout"/> bounds the whole of it.
/// </summary>
public sealed class ShutdownOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Shutdown";

    /// <summary>How long in-flight requests and stopping services may take before they are cut off (default 30 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "Shutdown:Timeout must be between 0 and 10 minutes.")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}
