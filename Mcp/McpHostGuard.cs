using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace McpAspire.Mcp;

/// <summary>
/// Protects <c>/mcp</c> from DNS rebinding: a web page whose name was made to resolve to this machine
/// must not reach a local server. The <c>Host</c> header must be an allowed name, and an <c>Origin</c>
/// header, when present, an allowed origin; anything else gets 403 before the request is read.
/// Without <see cref="McpEndpointOptions.AllowedHosts"/>, a service that listens on loopback addresses
/// only accepts loopback names (<c>localhost</c>, <c>127.0.0.1</c>, <c>[::1]</c>), and one that listens
/// elsewhere accepts any name. Without <see cref="McpEndpointOptions.AllowedOrigins"/>, an origin must be
/// a loopback one on a loopback-only service, and the request's own host elsewhere.
/// </summary>
public sealed class McpHostGuard(IOptions<McpEndpointOptions> options, IServer server)
{
    private static readonly string[] LoopbackNames = ["localhost", "127.0.0.1", "[::1]"];

    private bool? _loopbackOnly;

    /// <summary>Whether every address the service listens on is a loopback address; known once the server has started.</summary>
    public bool LoopbackOnly => _loopbackOnly ?? ListensOnLoopbackOnly();

    /// <summary>Answers 403 and returns <see langword="true"/> when the request's Host or Origin is not allowed.</summary>
    public async Task<bool> RefuseAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var reason = Check(context.Request);
        if (reason is null)
        {
            return false;
        }

        await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status403Forbidden, McpErrorCodes.ServerError, $"Forbidden: {reason}");
        return true;
    }

    /// <summary>Why the request's Host or Origin is not allowed, or <see langword="null"/> when both are.</summary>
    public string? Check(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var host = request.Host.Host;
        if (!HostAllowed(host))
        {
            return $"the Host '{Shorten(host)}' is not allowed (Mcp:AllowedHosts). This protects local servers from DNS rebinding.";
        }

        if (!request.Headers.TryGetValue("Origin", out var values))
        {
            return null;
        }

        var origin = values.ToString();
        return OriginAllowed(origin, host)
            ? null
            : $"the Origin '{Shorten(origin)}' is not allowed (Mcp:AllowedOrigins). This protects local servers from DNS rebinding.";
    }

    private bool HostAllowed(string host)
    {
        var allowed = options.Value.AllowedHosts;
        if (allowed.Count > 0)
        {
            return allowed.Any(name => name == "*" || string.Equals(name, host, StringComparison.OrdinalIgnoreCase));
        }

        return !LoopbackOnly || IsLoopbackName(host);
    }

    private bool OriginAllowed(string origin, string host)
    {
        var allowed = options.Value.AllowedOrigins;
        if (allowed.Count > 0)
        {
            return allowed.Any(entry => entry == "*" || string.Equals(entry.TrimEnd('/'), origin.TrimEnd('/'), StringComparison.OrdinalIgnoreCase));
        }

        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            // "null" (a sandboxed page or a file) and anything that is not a web origin.
            return false;
        }

        var originHost = uri.HostNameType == UriHostNameType.IPv6 ? $"[{uri.IdnHost.Trim('[', ']')}]" : uri.IdnHost;
        return LoopbackOnly ? IsLoopbackName(originHost) : string.Equals(originHost, host, StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsLoopbackName(string host) =>
        LoopbackNames.Contains(host, StringComparer.OrdinalIgnoreCase);

    private bool ListensOnLoopbackOnly()
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses;
        if (addresses is null || addresses.Count == 0)
        {
            // Not started yet: nothing to decide from, and nothing cached.
            return false;
        }

        var loopbackOnly = addresses.All(address =>
            Uri.TryCreate(address, UriKind.Absolute, out var uri)
            && (uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip))));
        _loopbackOnly = loopbackOnly;
        return loopbackOnly;
    }

    /// <summary>A header value as it is safe to echo: at most 100 characters.</summary>
    private static string Shorten(string value) => value.Length <= 100 ? value : string.Concat(value.AsSpan(0, 100), "...");
}
