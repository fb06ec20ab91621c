using System.Security.Claims;

namespace McpAspire.McpCoordinator.Sessions;

/// <summary>
/// The authenticated user a session was opened by: one identifying claim and its issuer. A session id
/// is a bearer secret; binding it to its user means a leaked id is useless to anyone else signed in.
/// </summary>
/// <param name="ClaimType">The type of the identifying claim (name identifier, <c>sub</c> or UPN, as the SDK binds its sessions).</param>
/// <param name="Value">The claim's value.</param>
/// <param name="Issuer">Who issued the claim, so equal values from two issuers are two users.</param>
public readonly record struct McpSessionOwner(string ClaimType, string Value, string Issuer)
{
    /// <summary>The claims that identify a user, most specific first.</summary>
    private static readonly string[] IdentifyingClaims = [ClaimTypes.NameIdentifier, "sub", ClaimTypes.Upn];

    /// <summary>The owner of a request: <see langword="null"/> for an anonymous one.</summary>
    public static McpSessionOwner? Of(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        foreach (var type in IdentifyingClaims)
        {
            if (user.FindFirst(type) is { } claim)
            {
                return new McpSessionOwner(claim.Type, claim.Value, claim.Issuer);
            }
        }

        return null;
    }
}
