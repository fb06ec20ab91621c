using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace McpAspire.McpCoordinator.Routing;

/// <summary>
/// Decides which node URLs the coordinator may connect to (<see cref="NodeUrlOptions"/>). The registry checks every
/// heartbeat's URL with <see cref="Check"/> and routes nothing to a refused one; the forwarder connects through
/// <see cref="ConnectAsync"/>, which checks the addresses a host name resolves to, so a name that later resolves
/// somewhere forbidden is still never connected to.
/// </summary>
public sealed class NodeUrlPolicy
{
    /// <summary>Host names of cloud metadata services, refused like their link-local addresses.</summary>
    private static readonly string[] MetadataHosts = ["metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"];

    /// <summary>Link-local networks and metadata addresses outside them (AWS over IPv6, Alibaba Cloud).</summary>
    private static readonly IPNetwork[] LinkLocal =
        [IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("fe80::/10"), IPNetwork.Parse("fd00:ec2::254/128"), IPNetwork.Parse("100.100.100.200/32")];

    private readonly string[] _schemes;
    private readonly string[] _hosts;
    private readonly IPNetwork[] _allowed;
    private readonly IPNetwork[] _denied;
    private readonly bool _allowLinkLocal;

    /// <summary>Reads the policy from validated options.</summary>
    public NodeUrlPolicy(IOptions<NodeUrlOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Value;
        _schemes = settings.AllowedSchemes.Count == 0 ? [Uri.UriSchemeHttp, Uri.UriSchemeHttps] : [.. settings.AllowedSchemes];
        _hosts = [.. settings.AllowedHosts.Select(host => host.Trim().ToLowerInvariant())];
        _allowed = [.. settings.AllowedNetworks.Select(network => IPNetwork.Parse(network))];
        _denied = [.. settings.DeniedNetworks.Select(network => IPNetwork.Parse(network))];
        _allowLinkLocal = settings.AllowLinkLocal;
    }

    private bool HasAllowList => _hosts.Length > 0 || _allowed.Length > 0;

    /// <summary>Why <paramref name="url"/> is refused, or <see langword="null"/> when the coordinator may connect to it.</summary>
    public string? Check(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri)
        {
            return "it is not an absolute URL";
        }

        if (!_schemes.Contains(url.Scheme, StringComparer.Ordinal))
        {
            return $"its scheme '{url.Scheme}' is not allowed (Coordinator:NodeUrls:AllowedSchemes: {string.Join(", ", _schemes)})";
        }

        if (url.UserInfo.Length > 0)
        {
            return "it carries credentials in the URL";
        }

        var host = url.HostNameType == UriHostNameType.IPv6 ? url.DnsSafeHost : url.IdnHost.ToLowerInvariant();
        if (IPAddress.TryParse(host, out var address))
        {
            return Refusal(address, namedAllowed: HostAllowed(host));
        }

        if (MetadataHosts.Contains(host.TrimEnd('.'), StringComparer.Ordinal))
        {
            return $"'{host}' is a cloud metadata service";
        }

        // A name outside the host list may still resolve into an allowed network: that is checked on connecting.
        return !HasAllowList || HostAllowed(host) || _allowed.Length > 0
            ? null
            : $"its host '{host}' is not in Coordinator:NodeUrls:AllowedHosts";
    }

    /// <summary>
    /// Connects to a node for the forwarder's <see cref="SocketsHttpHandler.ConnectCallback"/>: resolves the host,
    /// drops every address the policy refuses, and connects to the rest.
    /// </summary>
    /// <exception cref="HttpRequestException">Every address of the host is refused.</exception>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var named = HostAllowed(host.ToLowerInvariant());
        var admitted = addresses.Where(address => Refusal(address, named) is null).ToArray();
        if (admitted.Length == 0)
        {
            var reason = addresses.Length == 0 ? "it has no address" : Refusal(addresses[0], named);
            throw new HttpRequestException(HttpRequestError.ConnectionError, $"The node URL policy refuses {host}: {reason}.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(admitted, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private string? Refusal(IPAddress address, bool namedAllowed)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast)
            || address.IsIPv6Multicast || (address.AddressFamily == AddressFamily.InterNetwork && address.GetAddressBytes()[0] is >= 224 and <= 239))
        {
            return $"{address} is not the address of one host";
        }

        if (!_allowLinkLocal && LinkLocal.Any(network => network.Contains(address)))
        {
            return $"{address} is link-local or a cloud metadata address (Coordinator:NodeUrls:AllowLinkLocal is off)";
        }

        foreach (var denied in _denied)
        {
            if (denied.Contains(address))
            {
                return $"{address} is in {denied}, which Coordinator:NodeUrls:DeniedNetworks refuses";
            }
        }

        return !HasAllowList || namedAllowed || _allowed.Any(network => network.Contains(address))
            ? null
            : $"{address} is in none of Coordinator:NodeUrls:AllowedNetworks and its host is not in AllowedHosts";
    }

    private bool HostAllowed(string host)
    {
        foreach (var allowed in _hosts)
        {
            if (allowed.StartsWith("*.", StringComparison.Ordinal)
                ? host.EndsWith(allowed[1..], StringComparison.Ordinal) && host.Length > allowed.Length - 1
                : host == allowed)
            {
                return true;
            }
        }

        return false;
    }
}
