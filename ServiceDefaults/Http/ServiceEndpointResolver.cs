using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace McpAspire.ServiceDefaults.Http;

/// <summary>
/// Resolves logical service addresses from configuration in Aspire's format:
/// <c>services:{service}:{endpoint}:{index}</c> holds a URL (or <c>host:port</c>), where the endpoint
/// name is the scheme unless the host is written <c>_{endpoint}.{service}</c>. A scheme of
/// <c>https+http</c> prefers an <c>https</c> endpoint and falls back to <c>http</c>. With several
/// endpoints, calls go round-robin. A host that is not a configured service passes through unchanged.
/// </summary>
public sealed class ServiceEndpointResolver
{
    /// <summary>The configuration section that lists services.</summary>
    public const string SectionName = "services";

    private readonly IConfiguration _configuration;
    private ConcurrentDictionary<(string Service, string Endpoint), Uri[]> _cache = new();
    private readonly ConcurrentDictionary<string, int> _next = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Reads services from <paramref name="configuration"/>, following its reloads.</summary>
    public ServiceEndpointResolver(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        _configuration = configuration;
        // A fresh cache rather than Clear(): a lookup racing the reload fills the old one, not the new.
        ChangeToken.OnChange(configuration.GetReloadToken, () => Volatile.Write(ref _cache, new()));
    }

    /// <summary>
    /// The address to send a request for <paramref name="requested"/> to: the original when its host is not
    /// a configured service, otherwise the service's endpoint with the original path and query.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// The address needs discovery (<c>https+http</c>, or <c>_{endpoint}.{service}</c>) and no endpoint is configured.
    /// </exception>
    public Uri Resolve(Uri requested)
    {
        ArgumentNullException.ThrowIfNull(requested);
        if (!requested.IsAbsoluteUri)
        {
            return requested;
        }

        var (service, namedEndpoint) = SplitHost(requested.IdnHost);
        var schemes = requested.Scheme.Split('+', StringSplitOptions.RemoveEmptyEntries);
        var mustResolve = schemes.Length > 1 || namedEndpoint is not null;
        foreach (var scheme in schemes)
        {
            var endpoints = Endpoints(service, namedEndpoint ?? scheme);
            if (endpoints.Length > 0)
            {
                var index = (uint)_next.AddOrUpdate(service, 0, static (_, last) => unchecked(last + 1));
                var target = endpoints[index % (uint)endpoints.Length];
                return new UriBuilder(requested) { Scheme = target.Scheme, Host = target.Host, Port = target.Port }.Uri;
            }

            if (namedEndpoint is not null)
            {
                break;
            }
        }

        return mustResolve
            ? throw new InvalidOperationException(
                $"No endpoint is configured for '{requested.Scheme}://{requested.Authority}': set {SectionName}:{service}:{namedEndpoint ?? string.Join(" or " + SectionName + ":" + service + ":", schemes)}:0 (env: {SectionName}__{service}__{namedEndpoint ?? schemes[0]}__0).")
            : requested;
    }

    private static (string Service, string? Endpoint) SplitHost(string host)
    {
        if (host.StartsWith('_') && host.IndexOf('.', StringComparison.Ordinal) is var dot and > 1)
        {
            return (host[(dot + 1)..], host[1..dot]);
        }

        return (host, null);
    }

    private Uri[] Endpoints(string service, string endpoint) => Volatile.Read(ref _cache).GetOrAdd((service, endpoint), key =>
        _configuration.GetSection($"{SectionName}:{key.Service}:{key.Endpoint}").GetChildren()
            .OrderBy(child => int.TryParse(child.Key, out var i) ? i : int.MaxValue)
            .Select(child => Parse(child.Value, key.Endpoint))
            .OfType<Uri>()
            .ToArray());

    private static Uri? Parse(string? value, string endpoint)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (value.Contains("://", StringComparison.Ordinal))
        {
            return Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : null;
        }

        // host:port, with the scheme taken from the endpoint name when it is one.
        var scheme = endpoint is "https" ? "https" : "http";
        return Uri.TryCreate($"{scheme}://{value.Trim()}", UriKind.Absolute, out var hostPort) ? hostPort : null;
    }
}
