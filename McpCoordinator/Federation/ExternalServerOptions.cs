using System.ComponentModel.DataAnnotations;
using McpAspire.McpCoordinator.Registry;
using McpAspire.McpCoordinator.Security;

namespace McpAspire.McpCoordinator.Federation;

/// <summary>
/// The external MCP servers the coordinator serves next to its nodes, bound from <c>Coordinator:Servers:{name}</c>
/// and validated at start-up. Every replica of the coordinator needs the same list: the one that probes a server
/// records it in the registry, and each replica sends the calls it routes there with its own settings.
/// </summary>
public sealed class ExternalServersOptions : IValidatableObject
{
    /// <summary>The configuration section the <see cref="Servers"/> list is under.</summary>
    public const string SectionName = "Coordinator";

    /// <summary>The longest server name: its registry id, <c>server.{name}</c>, must fit in 64 characters.</summary>
    public const int MaxNameLength = 48;

    /// <summary>The servers, by name.</summary>
    public Dictionary<string, ExternalServerOptions> Servers { get; } = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, server) in Servers)
        {
            var key = $"{SectionName}:Servers:{name}";
            if (!IsName(name))
            {
                yield return new ValidationResult($"{key}: a server name is 1-{MaxNameLength} letters, digits, '_' or '-'.", [nameof(Servers)]);
            }

            foreach (var problem in server.Problems())
            {
                yield return new ValidationResult($"{key}:{problem}", [nameof(Servers)]);
            }
        }
    }

    /// <summary>Whether <paramref name="name"/> may name a server: 1-48 letters, digits, '_' or '-'.</summary>
    public static bool IsName(string name) =>
        name is { Length: > 0 and <= MaxNameLength } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
}

/// <summary>One external MCP server, reached over Streamable HTTP (<c>Coordinator:Servers:{name}</c>).</summary>
public sealed class ExternalServerOptions
{
    /// <summary>The absolute <c>http</c> or <c>https</c> URL of the server's MCP endpoint, e.g. <c>https://tools.example.com/mcp</c>.</summary>
    public Uri? Url { get; set; }

    /// <summary>Headers sent with every request to the server (an API key, say). Never logged, never written to the registry.</summary>
    public Dictionary<string, string> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A token sent as <c>Authorization: Bearer {token}</c> with every request to the server.</summary>
    public string? BearerToken { get; set; }

    /// <summary>
    /// Put before each of the server's tool names as the coordinator lists them (<c>everything_</c> makes <c>echo</c>
    /// <c>everything_echo</c>), so tools of the same name on two servers, or on a server and the nodes, are both
    /// served. Calls have it taken off again on the way to the server.
    /// </summary>
    public string? Prefix { get; set; }

    /// <summary>The server's tools to serve (names as the server gives them, or a prefix ending in <c>*</c>). Empty: all of them.</summary>
    public List<string> AllowTools { get; } = [];

    /// <summary>The server's tools never to serve, whatever <see cref="AllowTools"/> says.</summary>
    public List<string> DenyTools { get; } = [];

    /// <summary>
    /// How often the server is probed. A server that fails a probe leaves the registry at once, and its tools with it;
    /// it is back at the first probe it answers.
    /// </summary>
    public TimeSpan HealthInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many calls each coordinator replica sends the server at once; more are refused with 503 and <c>Retry-After</c>.</summary>
    public int MaxConcurrentCalls { get; set; } = 32;

    /// <summary>The name the server's tool <paramref name="upstreamName"/> is listed under, or <see langword="null"/> when it is not served.</summary>
    public string? ExposedName(string upstreamName)
    {
        ArgumentNullException.ThrowIfNull(upstreamName);
        if (DenyTools.Any(pattern => ToolRule.Matches(pattern, upstreamName))
            || (AllowTools.Count > 0 && !AllowTools.Any(pattern => ToolRule.Matches(pattern, upstreamName))))
        {
            return null;
        }

        var exposed = Prefix + upstreamName;
        return RegistryRecords.IsToolName(exposed) ? exposed : null;
    }

    /// <summary>The server's own name for the tool listed as <paramref name="exposedName"/>.</summary>
    public string UpstreamName(string exposedName)
    {
        ArgumentNullException.ThrowIfNull(exposedName);
        return Prefix is { Length: > 0 } prefix && exposedName.StartsWith(prefix, StringComparison.Ordinal) ? exposedName[prefix.Length..] : exposedName;
    }

    /// <summary>What is wrong with these settings, each starting with the key it is about.</summary>
    internal IEnumerable<string> Problems()
    {
        if (Url is null)
        {
            yield return "Url is not set: give the absolute URL of the server's MCP endpoint, e.g. https://tools.example.com/mcp.";
        }
        else if (!Url.IsAbsoluteUri || Url.Scheme is not ("http" or "https"))
        {
            yield return $"Url '{Url}' is not an absolute http or https URL.";
        }
        else if (!string.IsNullOrEmpty(Url.UserInfo))
        {
            yield return "Url carries credentials; put them in Headers or BearerToken, which are never logged.";
        }

        if (Prefix is not null && (Prefix.Length is 0 or > 32 || !RegistryRecords.IsToolName(Prefix)))
        {
            yield return $"Prefix '{Prefix}' is not 1-32 letters, digits, '_', '-' or '.'.";
        }

        foreach (var pattern in AllowTools.Concat(DenyTools).Where(pattern => !ToolRule.IsPattern(pattern)))
        {
            yield return $"AllowTools/DenyTools has '{pattern}', which is neither a tool name nor a prefix ending in '*'.";
        }

        foreach (var (name, value) in Headers)
        {
            if (name.Length == 0 || name.Any(c => c <= ' ' || c >= 127 || c == ':') || value.Any(c => c is '\r' or '\n'))
            {
                yield return $"Headers has '{name}', which is not a valid header name and value.";
            }
        }

        if (BearerToken is { } token && (token.Length == 0 || token.Any(char.IsWhiteSpace)))
        {
            yield return "BearerToken is empty or has white space.";
        }

        if (HealthInterval < TimeSpan.FromSeconds(1) || HealthInterval > TimeSpan.FromMinutes(10))
        {
            yield return "HealthInterval must be between 1 second and 10 minutes.";
        }

        if (MaxConcurrentCalls is < 1 or > 10_000)
        {
            yield return "MaxConcurrentCalls must be between 1 and 10000.";
        }
    }
}
