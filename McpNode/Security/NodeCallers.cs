using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using McpAspire.Cluster.Security;

namespace McpAspire.McpNode.Security;

/// <summary>
/// The users a node's tools see (<c>RequestContext.User</c>, or <c>HttpContext.User</c>). A call forwarded for an
/// authenticated caller is that caller, as the coordinator vouched for them: their subject as the name identifier, and
/// their scopes, roles and client. Any other call through the coordinator is <see cref="Coordinator"/>.
/// </summary>
public static class NodeCallers
{
    /// <summary>The claim that carries the client application a caller called through.</summary>
    public const string ClientClaim = "client_id";

    /// <summary>The claim that carries each of a caller's scopes.</summary>
    public const string ScopeClaim = "scope";

    /// <summary>The name identifier of the coordinator itself, when it calls for an anonymous caller.</summary>
    public const string CoordinatorId = "mcpaspire-coordinator";

    /// <summary>
    /// The coordinator calling for an anonymous caller. The SDK binds a stateful session to its user's id claim, so there
    /// is one; the coordinator binds each session to its real user itself.
    /// </summary>
    public static ClaimsPrincipal Coordinator { get; } = new(new ClaimsIdentity(
        [new Claim(ClaimTypes.NameIdentifier, CoordinatorId), new Claim(ClaimTypes.Name, "coordinator")], ClusterCredentialHandler.SchemeName));

    /// <summary>The user of a call the coordinator forwarded for <paramref name="caller"/>.</summary>
    public static ClaimsPrincipal PrincipalOf(CallerIdentity caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        Claim[] claims =
        [
            new(ClaimTypes.NameIdentifier, caller.Subject, ClaimValueTypes.String, caller.Issuer),
            new(ClaimTypes.Name, caller.Name, ClaimValueTypes.String, caller.Issuer),
            .. caller.Client is null ? [] : (Claim[])[new(ClientClaim, caller.Client, ClaimValueTypes.String, caller.Issuer)],
            .. caller.Scopes.Select(scope => new Claim(ScopeClaim, scope, ClaimValueTypes.String, caller.Issuer)),
            .. caller.Roles.Select(role => new Claim(ClaimTypes.Role, role, ClaimValueTypes.String, caller.Issuer)),
        ];
        return new ClaimsPrincipal(new ClaimsIdentity(claims, ClusterCredentialHandler.SchemeName, ClaimTypes.Name, ClaimTypes.Role));
    }

    /// <summary>
    /// A short, stable name of an authenticated caller (a hash of issuer and subject) that keeps per-caller state
    /// apart, such as idempotency keys; <see langword="null"/> for an anonymous call, which shares one space.
    /// </summary>
    public static string? ScopeOf(ClaimsPrincipal? user)
    {
        if (user?.Identity?.IsAuthenticated != true || user.FindFirst(ClaimTypes.NameIdentifier) is not { } id || id.Value == CoordinatorId)
        {
            return null;
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{id.Issuer}\n{id.Value}")).AsSpan(0, 12));
    }
}
