using McpAspire.Cluster.Security;
using McpAspire.Mcp;
using Microsoft.Extensions.Options;

namespace McpAspire.McpCoordinator.Sessions;

/// <summary>
/// Checks <see cref="CoordinatorOptions.SessionKey"/> at start-up: required for stateful sessions, and when
/// set, it must be a usable key, so a typo fails the start instead of every session.
/// </summary>
public sealed class SessionKeyValidation(IOptions<McpEndpointOptions> endpoint) : IValidateOptions<CoordinatorOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, CoordinatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.SessionKey))
        {
            return endpoint.Value.IsStateless
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(
                    "Coordinator:SessionKey is required when Mcp:Stateless is false: it seals the session ids the coordinator gives out, " +
                    "and every replica needs the same one. Generate one with 'openssl rand -base64 32' (the AppHost sets one for you).");
        }

        if (!SecretKeys.TryRead(options.SessionKey, out _))
        {
            return ValidateOptionsResult.Fail($"Coordinator:SessionKey must be {SecretKeys.Rule}.");
        }

        var bad = options.AcceptedSessionKeys.Select((key, index) => (key, index)).Where(entry => !SecretKeys.TryRead(entry.key, out _)).ToArray();
        return bad.Length == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(string.Join(" ", bad.Select(entry => $"Coordinator:AcceptedSessionKeys:{entry.index} must be {SecretKeys.Rule}.")));
    }
}
