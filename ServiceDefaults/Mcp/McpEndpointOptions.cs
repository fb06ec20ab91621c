using System.ComponentModel.DataAnnotations;

namespace McpAspire.ServiceDefaults.Mcp;

/// <summary>Settings of the <c>/mcp</c> endpoint, bound from the <c>Mcp</c> configuration section.</summary>
public sealed class McpEndpointOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Mcp";

    /// <summary>
    /// Stateless (the default): every POST is served on its own, so any replica can take any request.
    /// Stateful: <c>initialize</c> opens a session with an <c>Mcp-Session-Id</c>, which enables GET
    /// streams and server-to-client requests (sampling, elicitation) but pins a client to this process.
    /// </summary>
    public bool Stateless { get; set; } = true;

    /// <summary>The largest request body accepted, in bytes; larger bodies get 413. Default 1 MiB.</summary>
    [Range(1024, 256L * 1024 * 1024, ErrorMessage = "Mcp:MaxRequestBodyBytes must be between 1024 (1 KiB) and 268435456 (256 MiB).")]
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;
}
