using System.Collections.Frozen;
using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace McpAspire.McpCoordinator.Security;

/// <summary>
/// The API keys of service clients, bound from <c>Authentication:Schemes:ApiKey</c>. Only a key's SHA-256 is
/// configured, never the key: <c>Keys:{name}:Hash</c>, with its <c>Scopes</c>, <c>Roles</c> and an optional
/// <c>ExpiresAt</c>.
/// </summary>
public sealed class ApiKeyOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Authentication:Schemes:ApiKey";

    /// <summary>The keys, by name; the name identifies the client in logs, audit records and rate limits.</summary>
    public Dictionary<string, ApiKeyEntry> Keys { get; } = new(StringComparer.Ordinal);

    /// <summary>Why these keys, bound from <paramref name="section"/>, cannot be used, naming the key; empty when they can.</summary>
    public IEnumerable<string> Problems(IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        foreach (var key in section.GetSection(nameof(Keys)).GetChildren())
        {
            // The binder leaves a date it cannot read unset rather than failing; a key meant to expire must not live on.
            if (key[nameof(ApiKeyEntry.ExpiresAt)] is { } expires && !DateTimeOffset.TryParse(expires, CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            {
                yield return $"{SectionName}:Keys:{key.Key}:ExpiresAt must be a date and time, e.g. 2027-06-30T00:00:00Z.";
            }
        }

        var hashes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, key) in Keys)
        {
            var where = $"{SectionName}:Keys:{name}";
            if (!ApiKeyHandler.IsHash(key.Hash))
            {
                yield return $"{where}:Hash must be the SHA-256 of the key in hex (64 digits), e.g. from 'printf %s \"$KEY\" | sha256sum'.";
            }
            else if (!hashes.Add(key.Hash!))
            {
                yield return $"{where}:Hash is the hash of another key too; every client needs a key of its own.";
            }

            if (key.Scopes.Concat(key.Roles).Any(string.IsNullOrWhiteSpace))
            {
                yield return $"{where} has an empty scope or role.";
            }
        }
    }
}

/// <summary>One API key.</summary>
public sealed class ApiKeyEntry
{
    /// <summary>The SHA-256 of the key, in hex.</summary>
    public string? Hash { get; set; }

    /// <summary>The scopes the key grants.</summary>
    public List<string> Scopes { get; } = [];

    /// <summary>The roles the key grants.</summary>
    public List<string> Roles { get; } = [];

    /// <summary>When the key stops working; never when not set.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }
}

/// <summary>
/// Authenticates service clients by API key: the <see cref="HeaderName"/> header, or an <c>Authorization: Bearer</c>
/// value that is not a JWT. The key is hashed and looked up; the caller is <c>apikey:{name}</c>.
/// </summary>
public sealed class ApiKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyTable keys,
    TimeProvider time) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The scheme's name, and the section under <c>Authentication:Schemes</c> its keys are in.</summary>
    public const string SchemeName = "ApiKey";

    /// <summary>The header that carries a key.</summary>
    public const string HeaderName = "X-API-Key";

    /// <summary>The issuer of an API key caller's claims.</summary>
    public const string Issuer = "McpAspire-ApiKey";

    /// <summary>The longest key looked up; longer ones fail before they are hashed.</summary>
    public const int MaxKeyLength = 512;

    /// <summary>Whether <paramref name="hash"/> is a SHA-256 in hex.</summary>
    public static bool IsHash(string? hash) => hash is { Length: 64 } && hash.All(char.IsAsciiHexDigit);

    /// <summary>The API key a request presents: its <see cref="HeaderName"/> header, or a bearer value that is not a JWT; <see langword="null"/> when it presents none.</summary>
    public static string? PresentedKey(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Headers.TryGetValue(HeaderName, out var header))
        {
            return header.ToString();
        }

        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization.AsSpan(7).Count('.') != 2
            ? authorization[7..].Trim()
            : null;
    }

    /// <inheritdoc/>
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (PresentedKey(Request) is not { } presented)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (presented.Length is 0 or > MaxKeyLength)
        {
            return Task.FromResult(AuthenticateResult.Fail($"the API key is empty or longer than {MaxKeyLength} characters"));
        }

        if (keys.Find(presented) is not { } found)
        {
            return Task.FromResult(AuthenticateResult.Fail("the API key is not one this coordinator knows"));
        }

        if (found.Key.ExpiresAt is { } expires && expires <= time.GetUtcNow())
        {
            return Task.FromResult(AuthenticateResult.Fail(string.Create(CultureInfo.InvariantCulture, $"the API key '{found.Name}' expired at {expires:O}")));
        }

        Claim[] claims =
        [
            new(ClaimTypes.NameIdentifier, $"apikey:{found.Name}", ClaimValueTypes.String, Issuer),
            new(ClaimTypes.Name, found.Name, ClaimValueTypes.String, Issuer),
            new("client_id", found.Name, ClaimValueTypes.String, Issuer),
            .. found.Key.Scopes.Select(scope => new Claim("scope", scope, ClaimValueTypes.String, Issuer)),
            .. found.Key.Roles.Select(role => new Claim(ClaimTypes.Role, role, ClaimValueTypes.String, Issuer)),
        ];
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }
}

/// <summary>The configured API keys by hash, built once from keys that passed <see cref="ApiKeyOptions.Problems"/>: every hash valid and unique.</summary>
public sealed class ApiKeyTable(IOptions<ApiKeyOptions> options)
{
    private readonly FrozenDictionary<string, (string Name, ApiKeyEntry Key)> _byHash = options.Value.Keys
        .ToFrozenDictionary(pair => pair.Value.Hash!.ToLowerInvariant(), pair => (pair.Key, pair.Value), StringComparer.Ordinal);

    /// <summary>The key <paramref name="presented"/> is, with its name; <see langword="null"/> when it is none of them.</summary>
    public (string Name, ApiKeyEntry Key)? Find(string presented)
    {
        ArgumentNullException.ThrowIfNull(presented);
        return _byHash.TryGetValue(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(presented))), out var found) ? found : null;
    }
}
