using System.Text.Encodings.Web;
using McpAspire.Cluster.Security;
using McpAspire.Mcp;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace McpAspire.McpNode.Security;

/// <summary>
/// The node's authentication scheme for calls from a coordinator: the request must carry a valid
/// <see cref="ClusterCredentials.HeaderName"/>. The user is the coordinator's caller when it names one in a valid
/// <see cref="CallerAssertion.HeaderName"/> (see <see cref="NodeCallers"/>), otherwise the coordinator itself. Without a
/// valid credential, the challenge answers 401 with a JSON-RPC error that says what is wrong, so a caller that bypasses
/// the gateway learns why it is refused and nothing else.
/// </summary>
public sealed partial class ClusterCredentialHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ClusterCredentials credentials,
    CallerAssertion callers) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The scheme's name, also the <c>WWW-Authenticate</c> challenge.</summary>
    public const string SchemeName = "McpAspire-Cluster";

    /// <summary>The policy <see cref="ClusterCredentialExtensions.RequireClusterCredential{TBuilder}"/> puts on the MCP endpoint.</summary>
    public const string PolicyName = "cluster-credential";

    /// <summary>The JSON-RPC error code of a refused call: the range the specification leaves to servers.</summary>
    public const int UnauthorizedCode = -32001;

    private string? _problem;

    /// <inheritdoc/>
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = Request.Headers[ClusterCredentials.HeaderName];
        _problem = token.Count > 1 ? $"the request has more than one {ClusterCredentials.HeaderName} header" : credentials.Check(token.ToString());
        var caller = Request.Headers[CallerAssertion.HeaderName];
        CallerIdentity? identity = null;
        if (_problem is null && caller.Count > 1)
        {
            _problem = $"the request has more than one {CallerAssertion.HeaderName} header";
        }
        else if (_problem is null && caller.Count == 1)
        {
            callers.TryRead(caller.ToString(), out identity, out _problem);
        }

        if (_problem is null)
        {
            var user = identity is null ? NodeCallers.Coordinator : NodeCallers.PrincipalOf(identity);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(user, SchemeName)));
        }

        LogRefused(Context.Connection.RemoteIpAddress, _problem);
        return Task.FromResult(AuthenticateResult.Fail(_problem));
    }

    /// <inheritdoc/>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = SchemeName;
        return McpHttpResponses.WriteErrorAsync(
            Context,
            StatusCodes.Status401Unauthorized,
            UnauthorizedCode,
            $"This node takes calls only through the cluster's coordinator: {_problem ?? "no credential"}.");
    }

    [LoggerMessage(EventId = 2020, Level = LogLevel.Debug, Message = "Refused a call from {Caller} without a valid cluster credential: {Problem}")]
    private partial void LogRefused(System.Net.IPAddress? caller, string problem);
}
