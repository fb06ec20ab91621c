using System.ComponentModel.DataAnnotations;
using ModelContextProtocol.AspNetCore;

namespace McpAspire.Mcp;

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

    /// <summary>
    /// How the node keeps state, when set; it overrides <see cref="Stateless"/>. <c>Stateless</c> and
    /// <c>Stateful</c> are the two modes <see cref="Stateless"/> selects. <c>StatefulForInitializeClients</c>
    /// (nodes only) gives clients that send <c>initialize</c> (2025-11-25 and earlier) a session, and serves
    /// 2026-07-28 clients per request on the same endpoint.
    /// </summary>
    public HttpServerSessionMode? SessionMode { get; set; }

    /// <summary>The mode in force: <see cref="SessionMode"/> when set, else the one <see cref="Stateless"/> selects.</summary>
    public HttpServerSessionMode Mode => SessionMode ?? (Stateless ? HttpServerSessionMode.Stateless : HttpServerSessionMode.Stateful);

    /// <summary>Whether <see cref="Mode"/> serves every request on its own, with no sessions at all.</summary>
    public bool IsStateless => Mode == HttpServerSessionMode.Stateless;

    /// <summary>The largest request body accepted, in bytes; larger bodies get 413. Default 1 MiB.</summary>
    [Range(1024, 256L * 1024 * 1024, ErrorMessage = "Mcp:MaxRequestBodyBytes must be between 1024 (1 KiB) and 268435456 (256 MiB).")]
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>How long a session may stay idle (no request, no open stream) before it is ended. Default 2 h.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00", ErrorMessage = "Mcp:SessionIdleTimeout must be between 1 second and 7 days.")]
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromHours(2);

    /// <summary>How many idle sessions are kept; past it, the longest idle are ended first. Default 10,000.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Mcp:MaxIdleSessions must be between 1 and 1000000.")]
    public int MaxIdleSessions { get; set; } = 10_000;

    /// <summary>
    /// Host names accepted in the <c>Host</c> header (<c>*</c> for any). Empty (the default): loopback names
    /// only when the service listens on loopback addresses only, any name otherwise. Set it to the names
    /// clients use when the service is reachable from other machines.
    /// </summary>
    public List<string> AllowedHosts { get; } = [];

    /// <summary>
    /// Origins (<c>scheme://host[:port]</c>) accepted in an <c>Origin</c> header (<c>*</c> for any); requests
    /// without one are not affected. Empty (the default): loopback origins when the service listens on
    /// loopback only, otherwise only origins on the request's own host.
    /// </summary>
    public List<string> AllowedOrigins { get; } = [];
}
