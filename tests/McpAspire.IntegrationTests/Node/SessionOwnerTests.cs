using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using McpAspire.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAspire.IntegrationTests.Node;

/// <summary>A session belongs to the user who opened it: anyone else who presents its id gets 403.</summary>
public sealed class SessionOwnerTests : IClassFixture<SessionOwnerTests.AuthenticatedNode>, IDisposable
{
    private const string UserHeader = "X-Test-User";
    private readonly ServiceHost<McpNode.NodeOptions> _node;
    private readonly HttpClient _http = new();

    public SessionOwnerTests(AuthenticatedNode fixture) => _node = fixture.Host;

    public void Dispose() => _http.Dispose();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public sealed class AuthenticatedNode() : NodeFixture(
        services => services.AddAuthentication(HeaderUser.SchemeName).AddScheme<AuthenticationSchemeOptions, HeaderUser>(HeaderUser.SchemeName, null),
        ("Mcp:Stateless", "false"));

    [Theory]
    [InlineData("alice", "alice", HttpStatusCode.OK)]
    [InlineData("alice", "mallory", HttpStatusCode.Forbidden)]
    [InlineData("alice", null, HttpStatusCode.Forbidden)]
    [InlineData(null, "mallory", HttpStatusCode.Forbidden)]
    [InlineData(null, null, HttpStatusCode.OK)]
    public async Task Only_the_user_who_opened_a_session_can_use_it(string? opener, string? caller, HttpStatusCode expected)
    {
        var session = await OpenAsync(opener);

        using var call = await _http.SendAsync(As(caller, RawMcp.InSession(RawMcp.Post(_node.McpUrl, RawMcp.EchoCall), session)), Cancel);
        using var end = await _http.SendAsync(As(caller, RawMcp.InSession(new HttpRequestMessage(HttpMethod.Delete, _node.McpUrl), session)), Cancel);

        Assert.Equal(expected, call.StatusCode);
        Assert.Equal(expected, end.StatusCode);
        if (expected == HttpStatusCode.Forbidden)
        {
            Assert.Contains("opened by another user", RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(call)), StringComparison.Ordinal);
            // The refusal did not end the session: its owner still has it.
            using var owner = await _http.SendAsync(As(opener, RawMcp.InSession(RawMcp.Post(_node.McpUrl, RawMcp.EchoCall), session)), Cancel);
            Assert.Equal(HttpStatusCode.OK, owner.StatusCode);
        }
    }

    private async Task<string> OpenAsync(string? user)
    {
        const string Initialize = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""";
        using var response = await _http.SendAsync(As(user, RawMcp.Post(_node.McpUrl, Initialize)), Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues("Mcp-Session-Id").Single();
    }

    private static HttpRequestMessage As(string? user, HttpRequestMessage request)
    {
        if (user is not null)
        {
            request.Headers.Add(UserHeader, user);
        }

        return request;
    }

    /// <summary>Signs in whoever the test header names; a request without it stays anonymous.</summary>
    private sealed class HeaderUser(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "test-header";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Request.Headers[UserHeader].ToString() is not { Length: > 0 } name)
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, name)], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }
}
