using System.Text.Encodings.Web;
using McpAspire.Mcp;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using ModelContextProtocol.AspNetCore.Authentication;

namespace McpAspire.McpCoordinator.Security;

/// <summary>
/// The MCP SDK's authentication scheme, which serves the RFC 9728 metadata at
/// <c>/.well-known/oauth-protected-resource</c> and challenges with <c>WWW-Authenticate: Bearer resource_metadata=...</c>.
/// On top of it, a rejected token adds RFC 6750's <c>error="invalid_token"</c>, and the body is a JSON-RPC error that
/// says what was wrong, without the token's contents.
/// </summary>
public sealed class CallerChallengeHandler(IOptionsMonitor<McpAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : McpAuthenticationHandler(options, logger, encoder)
{
    /// <summary>The JSON-RPC error code of a request without valid credentials: the range the specification leaves to servers.</summary>
    public const int UnauthorizedCode = -32001;

    /// <inheritdoc/>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        await base.HandleChallengeAsync(properties);
        // The request's own result: each scheme authenticates once per request, so this asks nothing again.
        var failure = (await Context.AuthenticateAsync(CoordinatorSecurity.CallerScheme)).Failure;
        if (failure is not null)
        {
            var challenge = Response.Headers.WWWAuthenticate.ToString();
            Response.Headers.WWWAuthenticate = $"Bearer error=\"invalid_token\", {challenge["Bearer ".Length..]}";
        }

        await McpHttpResponses.WriteErrorAsync(Context, StatusCodes.Status401Unauthorized, UnauthorizedCode, $"Unauthorized: {Describe(failure)}.");
    }

    private static string Describe(Exception? failure) => failure switch
    {
        null => $"no credentials; send 'Authorization: Bearer <access token for this resource>' or '{ApiKeyHandler.HeaderName}: <key>'",
        SecurityTokenExpiredException => "the token has expired",
        SecurityTokenNotYetValidException => "the token is not valid yet",
        SecurityTokenInvalidAudienceException => "the token was not issued for this resource (its audience is not one this coordinator accepts)",
        SecurityTokenInvalidIssuerException => "the token's issuer is not one this coordinator trusts",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "the token's signature does not verify",
        SecurityTokenException or ArgumentException => "the token is not valid",
        _ => failure.Message,
    };
}
