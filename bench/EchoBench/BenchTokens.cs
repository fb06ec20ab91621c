using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

/// <summary>
/// The issuer of the tokens for <c>--auth jwt</c>: a random HS256 key, given to the coordinator only through
/// <c>Authentication:Schemes:Bearer:*</c>, as <c>dotnet user-jwts</c> writes it, with a rule that grants <c>echo</c>.
/// </summary>
internal sealed class BenchTokens
{
    public const string AdminScope = "mcpaspire.admin";

    private const string Issuer = "https://issuer.echobench.local";
    private const string Audience = "https://echobench.local/mcp";

    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    /// <summary>The coordinator's environment: the token settings, one rule, and limits that never refuse the load.</summary>
    public IReadOnlyList<(string Key, string Value)> Settings =>
    [
        ("Authentication__Schemes__Bearer__ValidIssuer", Issuer),
        ("Authentication__Schemes__Bearer__ValidAudiences__0", Audience),
        ("Authentication__Schemes__Bearer__SigningKeys__0__Issuer", Issuer),
        ("Authentication__Schemes__Bearer__SigningKeys__0__Value", Convert.ToBase64String(_key)),
        ("Coordinator__Authorization__Rules__bench__Scopes__0", "bench"),
        ("Coordinator__Authorization__Rules__bench__Tools__0", "echo"),
        ("Coordinator__RateLimits__RequestsPerSecond", "1000000"),
        ("Coordinator__RateLimits__Burst", "1000000"),
        ("Coordinator__RateLimits__ConcurrentRequests", "100000"),
    ];

    /// <summary>A token valid for an hour, with the scope the rule grants echo to (or <paramref name="scope"/>).</summary>
    public string Mint(string scope = "bench") => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = Issuer,
        Audience = Audience,
        Subject = new ClaimsIdentity([new Claim("sub", "echobench"), new Claim("scope", scope)]),
        Expires = DateTime.UtcNow.AddHours(1),
        SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(_key), SecurityAlgorithms.HmacSha256),
    });
}
