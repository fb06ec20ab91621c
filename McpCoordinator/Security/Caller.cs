using System.Security.Claims;
using McpAspire.Cluster.Security;
using McpAspire.McpCoordinator.Sessions;
using Microsoft.AspNetCore.Http.Features.Authentication;

namespace McpAspire.McpCoordinator.Security;

/// <summary>
/// Who sent a request, read once from its claims: the subject and issuer that identify them, the scopes and roles
/// that authorize them, and the key their rate limits are counted under. An anonymous caller (no authentication
/// configured) is known by the client's address alone.
/// </summary>
public sealed class Caller
{
    /// <summary>The claim types that carry scopes, each a space-separated list (OAuth <c>scope</c>, Entra ID <c>scp</c>, and <c>scp</c> as the JWT handler maps it).</summary>
    private static readonly string[] ScopeClaims = ["scope", "scp", "http://schemas.microsoft.com/identity/claims/scope"];

    /// <summary>The claim types that carry roles, one role each.</summary>
    private static readonly string[] RoleClaims = [ClaimTypes.Role, "roles", "role"];

    /// <summary>The claim types that name the client application.</summary>
    private static readonly string[] ClientClaims = ["azp", "client_id", "appid"];

    private string? _assertion;

    /// <summary>The principal of a request no authentication ran for.</summary>
    private static readonly ClaimsPrincipal Anonymous = new(new ClaimsIdentity());

    /// <summary>No scopes or roles.</summary>
    private static readonly IReadOnlySet<string> None = new HashSet<string>(StringComparer.Ordinal);

    private Caller(string key, CallerIdentity? identity, IReadOnlySet<string> scopes, IReadOnlySet<string> roles)
    {
        Key = key;
        Identity = identity;
        Scopes = scopes;
        Roles = roles;
    }

    /// <summary>The partition this caller's limits are counted in: issuer and subject, or <c>ip:</c> and the address of an anonymous one.</summary>
    public string Key { get; }

    /// <summary>The authenticated identity; <see langword="null"/> for an anonymous caller.</summary>
    public CallerIdentity? Identity { get; }

    /// <summary>Whether the caller is authenticated.</summary>
    public bool IsAuthenticated => Identity is not null;

    /// <summary>Their scopes.</summary>
    public IReadOnlySet<string> Scopes { get; }

    /// <summary>Their roles.</summary>
    public IReadOnlySet<string> Roles { get; }

    /// <summary>
    /// The caller's identity signed for the nodes, made once per request however many nodes it is tried on;
    /// <see langword="null"/> for an anonymous caller, or one whose claims would not fit.
    /// </summary>
    public string? SignedAssertion(CallerAssertion signer)
    {
        ArgumentNullException.ThrowIfNull(signer);
        return Identity is null ? null : _assertion ??= signer.Sign(Identity);
    }

    /// <summary>A name for logs and audit records: the identity's name, or <c>anonymous@{address}</c>.</summary>
    public string DisplayName => Identity?.Name ?? $"anonymous@{Key[3..]}";

    /// <summary>The caller of <paramref name="context"/>, read from its user once and kept with the request.</summary>
    public static Caller Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Features.Get<Caller>() is { } known)
        {
            return known;
        }

        // The authentication feature holds the user once authentication ran; without it the caller is anonymous,
        // and HttpContext.User would only make an empty principal to say so.
        var user = context.Features.Get<IHttpAuthenticationFeature>()?.User ?? Anonymous;
        var caller = Read(user, context.Connection.RemoteIpAddress?.ToString() ?? "local");
        context.Features.Set(caller);
        return caller;
    }

    /// <summary>The caller a principal describes; <paramref name="address"/> names an anonymous one.</summary>
    public static Caller Read(ClaimsPrincipal user, string address)
    {
        ArgumentNullException.ThrowIfNull(user);
        // Identified as sessions are bound, so a session's owner and its caller are always the same user.
        if (McpSessionOwner.Of(user) is not { } subject)
        {
            return new Caller($"ip:{address}", null, None, None);
        }

        // Built once per request and asked a few times: a plain set is cheaper than a frozen one here.
        var scopes = new HashSet<string>(
            ScopeClaims.SelectMany(type => user.FindAll(type)).SelectMany(claim => claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)),
            StringComparer.Ordinal);
        var roles = new HashSet<string>(RoleClaims.SelectMany(type => user.FindAll(type)).Select(claim => claim.Value), StringComparer.Ordinal);
        var name = user.Identity!.Name ?? user.FindFirst("name")?.Value ?? user.FindFirst("preferred_username")?.Value ?? subject.Value;
        var identity = new CallerIdentity(subject.Value, subject.Issuer, name, FirstOf(user, ClientClaims)?.Value, [.. scopes.Order(StringComparer.Ordinal)], [.. roles.Order(StringComparer.Ordinal)]);
        return new Caller($"{subject.Issuer}|{subject.Value}", identity, scopes, roles);
    }

    private static Claim? FirstOf(ClaimsPrincipal user, string[] types)
    {
        foreach (var type in types)
        {
            if (user.FindFirst(type) is { } claim)
            {
                return claim;
            }
        }

        return null;
    }
}
