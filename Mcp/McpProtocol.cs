using System.Text.Json.Nodes;

namespace McpAspire.Mcp;

/// <summary>Protocol constants for the Streamable HTTP transport. The SDK keeps its own list internal.</summary>
public static class McpProtocol
{
    /// <summary>The version assumed when a request carries no <c>MCP-Protocol-Version</c> header.</summary>
    public const string DefaultVersion = "2025-03-26";

    /// <summary>The newest version this project speaks.</summary>
    public const string LatestVersion = "2026-07-28";

    /// <summary>The request header that names the protocol version.</summary>
    public const string ProtocolVersionHeader = "MCP-Protocol-Version";

    /// <summary>The header that carries the session id in stateful mode.</summary>
    public const string SessionIdHeader = "Mcp-Session-Id";

    /// <summary>The request header that repeats the JSON-RPC method (required from 2026-07-28).</summary>
    public const string MethodHeader = "Mcp-Method";

    /// <summary>The request header that repeats the tool or prompt name, or the resource URI (required from 2026-07-28).</summary>
    public const string NameHeader = "Mcp-Name";

    /// <summary>The <c>params._meta</c> key that carries a request's protocol version from 2026-07-28.</summary>
    public const string ProtocolVersionMetaKey = "io.modelcontextprotocol/protocolVersion";

    /// <summary>Every version the SDK negotiates, oldest first.</summary>
    public static IReadOnlyList<string> SupportedVersions { get; } =
        ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"];

    /// <summary>The <c>error.data</c> of an unsupported-version answer (-32022): what is supported and what was asked for.</summary>
    public static JsonObject UnsupportedVersionData(IEnumerable<string> supported, string requested) => new()
    {
        ["supported"] = new JsonArray([.. supported.Select(version => JsonValue.Create(version))]),
        ["requested"] = requested,
    };

    /// <summary>Whether <paramref name="version"/> is one this endpoint accepts.</summary>
    public static bool IsSupported(string version) => SupportedVersions.Contains(version, StringComparer.Ordinal);

    /// <summary>
    /// Whether <paramref name="version"/> is a per-request revision (2026-07-28 and later): no <c>initialize</c>,
    /// no sessions, no GET stream, and <c>Mcp-Method</c>/<c>Mcp-Name</c> headers on every POST.
    /// Versions are ISO dates, so ordinal order is chronological.
    /// </summary>
    public static bool IsPerRequest(string version) => string.CompareOrdinal(version, LatestVersion) >= 0;
}
