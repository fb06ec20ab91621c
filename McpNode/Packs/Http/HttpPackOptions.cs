using System.ComponentModel.DataAnnotations;

namespace McpAspire.McpNode.Packs.Http;

/// <summary>Settings of the <c>http</c> pack, from the <c>HttpPack</c> section.</summary>
public sealed class HttpPackOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "HttpPack";

    /// <summary>The one upstream <c>fetch_json</c> may call; paths are resolved under it (the allowlist).</summary>
    public Uri? UpstreamBaseUrl { get; set; }

    /// <summary>The largest upstream answer accepted, in bytes (default 1 MiB).</summary>
    [Range(1, 64L * 1024 * 1024, ErrorMessage = "HttpPack:MaxResponseBytes must be between 1 and 67108864 (64 MiB).")]
    public long MaxResponseBytes { get; set; } = 1024 * 1024;

    /// <summary>How many paths keep a last good answer for when the upstream is down (default 1000).</summary>
    [Range(0, 1_000_000, ErrorMessage = "HttpPack:MaxCachedPaths must be between 0 and 1000000.")]
    public int MaxCachedPaths { get; set; } = 1000;

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (UpstreamBaseUrl is { } url && (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(url.Query)))
        {
            yield return new ValidationResult($"HttpPack:UpstreamBaseUrl '{url}' must be an absolute http or https URL without a query.", [nameof(UpstreamBaseUrl)]);
        }
    }
}
