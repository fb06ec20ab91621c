using System.ComponentModel.DataAnnotations;
using System.Net;

namespace McpAspire.McpCoordinator.Routing;

/// <summary>
/// Which node URLs the coordinator connects to, bound from <c>Coordinator:NodeUrls</c> and validated at start-up.
/// Whatever is configured, link-local and cloud metadata addresses are refused unless <see cref="AllowLinkLocal"/>
/// says otherwise, and unspecified, broadcast and multicast addresses always are.
/// </summary>
public sealed class NodeUrlOptions : IValidatableObject
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Coordinator:NodeUrls";

    /// <summary>The URL schemes nodes may use: <c>http</c>, <c>https</c>. Empty: both.</summary>
    public IList<string> AllowedSchemes { get; } = [];

    /// <summary>
    /// Host names nodes may use; <c>*.example.internal</c> allows every name under <c>example.internal</c>. Empty,
    /// with <see cref="AllowedNetworks"/> empty too: any host the other rules do not refuse.
    /// </summary>
    public IList<string> AllowedHosts { get; } = [];

    /// <summary>Networks (CIDR, e.g. <c>10.0.0.0/8</c>) node addresses may be in; see <see cref="AllowedHosts"/>.</summary>
    public IList<string> AllowedNetworks { get; } = [];

    /// <summary>Networks (CIDR) node addresses may never be in, whatever the lists above allow.</summary>
    public IList<string> DeniedNetworks { get; } = [];

    /// <summary>
    /// Whether nodes may be at link-local addresses (169.254.0.0/16, fe80::/10), which include the cloud metadata
    /// services. Off: no registry record can point the coordinator at a metadata service.
    /// </summary>
    public bool AllowLinkLocal { get; set; }

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var scheme in AllowedSchemes.Where(scheme => scheme is not ("http" or "https")))
        {
            yield return new ValidationResult($"Coordinator:NodeUrls:AllowedSchemes has '{scheme}'; nodes are reached over http or https.", [nameof(AllowedSchemes)]);
        }

        foreach (var host in AllowedHosts.Where(host => string.IsNullOrWhiteSpace(host) || host.Trim('*', '.').Length == 0 || host.LastIndexOf('*') > 0))
        {
            yield return new ValidationResult($"Coordinator:NodeUrls:AllowedHosts has '{host}'; write a host name, or '*.' and a domain.", [nameof(AllowedHosts)]);
        }

        foreach (var (key, networks) in new (string, IList<string>)[] { ("AllowedNetworks", AllowedNetworks), ("DeniedNetworks", DeniedNetworks) })
        {
            foreach (var network in networks.Where(network => !IPNetwork.TryParse(network, out _)))
            {
                yield return new ValidationResult($"Coordinator:NodeUrls:{key} has '{network}', which is not a network in CIDR form (e.g. 10.0.0.0/8).", [key]);
            }
        }
    }
}
