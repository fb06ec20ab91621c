using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>Signs in whoever the <see cref="Header"/> names; a request without it stays anonymous.</summary>
public sealed class HeaderUser(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "test-header";

    public const string Header = "X-Test-User";

    /// <summary>Makes this the service's authentication.</summary>
    public static void Add(IServiceCollection services) =>
        services.AddAuthentication(SchemeName).AddScheme<AuthenticationSchemeOptions, HeaderUser>(SchemeName, null);

    /// <summary>Sends <paramref name="request"/> as <paramref name="user"/>, or anonymously when it is <see langword="null"/>.</summary>
    public static HttpRequestMessage As(string? user, HttpRequestMessage request)
    {
        if (user is not null)
        {
            request.Headers.Add(Header, user);
        }

        return request;
    }

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Request.Headers[Header].ToString() is not { Length: > 0 } name)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, name)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}
