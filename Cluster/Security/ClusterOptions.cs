using System.ComponentModel.DataAnnotations;

namespace McpAspire.Cluster.Security;

/// <summary>
/// The cluster's shared secret, bound from the <c>Cluster</c> section on the coordinator and on every node. With a
/// key, nodes sign their heartbeats and coordinators route only to nodes whose signature checks; coordinators sign a
/// credential into every call, and nodes refuse calls without one. The AppHost generates the key.
/// </summary>
public sealed class ClusterOptions : IValidatableObject
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Cluster";

    /// <summary>The key this service signs with, and accepts: <see cref="SecretKeys.Rule"/>. None: nothing is signed or checked.</summary>
    public string? Key { get; set; }

    /// <summary>
    /// Further keys this service accepts but does not sign with, for a rotation: first add the new key here on every
    /// service, then make it <see cref="Key"/> (with the old one here), then remove the old one.
    /// </summary>
    public IList<string> AcceptedKeys { get; } = [];

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Key is not null && !SecretKeys.TryRead(Key, out _))
        {
            yield return new ValidationResult($"Cluster:Key must be {SecretKeys.Rule}.", [nameof(Key)]);
        }

        for (var i = 0; i < AcceptedKeys.Count; i++)
        {
            if (!SecretKeys.TryRead(AcceptedKeys[i], out _))
            {
                yield return new ValidationResult($"Cluster:AcceptedKeys:{i} must be {SecretKeys.Rule}.", [nameof(AcceptedKeys)]);
            }
        }

        if (Key is null && AcceptedKeys.Count > 0)
        {
            yield return new ValidationResult("Cluster:AcceptedKeys is set without Cluster:Key: a service accepts other keys only while it signs with one.", [nameof(AcceptedKeys)]);
        }
    }
}
