using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>
/// A token issuer of the tests' own: a random HS256 key, configured in a coordinator only through
/// <c>Authentication:Schemes:Bearer:*</c>, as <c>dotnet user-jwts</c> writes it, and real signed JWTs for any user.
/// </summary>
public sealed class TestTokens
{
    public const string Issuer = "https://issuer.mcpaspire.test";

    public const string Audience = "https://mcp.mcpaspire.test/mcp";

    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    /// <summary>The coordinator settings that trust these tokens.</summary>
    public (string Key, string? Value)[] Settings =>
    [
        ("Authentication:Schemes:Bearer:ValidIssuer", Issuer),
        ("Authentication:Schemes:Bearer:ValidAudiences:0", Audience),
        ("Authentication:Schemes:Bearer:SigningKeys:0:Issuer", Issuer),
        ("Authentication:Schemes:Bearer:SigningKeys:0:Value", Convert.ToBase64String(_key)),
    ];

    /// <summary>
    /// A token for <paramref name="subject"/> with these scopes (one space-separated <c>scope</c> claim) and roles,
    /// valid now unless <paramref name="expires"/> says otherwise.
    /// </summary>
    public string Mint(string subject, string scopes = "", string[]? roles = null, string audience = Audience, DateTimeOffset? expires = null, byte[]? key = null, string? client = null)
    {
        var now = DateTime.UtcNow;
        var until = expires?.UtcDateTime ?? now.AddMinutes(10);
        var claims = new List<Claim> { new("sub", subject), new("name", subject) };
        if (scopes.Length > 0)
        {
            claims.Add(new Claim("scope", scopes));
        }

        claims.AddRange((roles ?? []).Select(role => new Claim("roles", role)));
        if (client is not null)
        {
            claims.Add(new Claim("azp", client));
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            Subject = new ClaimsIdentity(claims),
            IssuedAt = until < now ? until.AddMinutes(-30) : now,
            NotBefore = until < now ? until.AddMinutes(-30) : now.AddMinutes(-1),
            Expires = until,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key ?? _key), SecurityAlgorithms.HmacSha256),
        });
    }
}

/// <summary>Puts credentials on a request.</summary>
public static class Credentials
{
    public static HttpRequestMessage WithBearer(this HttpRequestMessage request, string? token)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    public static HttpRequestMessage WithApiKey(this HttpRequestMessage request, string key)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Headers.Add("X-API-Key", key);
        return request;
    }
}
