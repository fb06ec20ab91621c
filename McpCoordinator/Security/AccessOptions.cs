using System.ComponentModel.DataAnnotations;
using McpAspire.McpCoordinator.Registry;

namespace McpAspire.McpCoordinator.Security;

/// <summary>
/// Who may call what, bound from <c>Coordinator:Authorization</c>. Used once authentication is on; an anonymous
/// coordinator lets everyone call everything.
/// </summary>
public sealed class AccessOptions : IValidatableObject
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Coordinator:Authorization";

    /// <summary>The admin scope when <see cref="AdminScopes"/> is not set.</summary>
    public const string DefaultAdminScope = "mcpaspire.admin";

    /// <summary>The admin role when <see cref="AdminRoles"/> is not set.</summary>
    public const string DefaultAdminRole = "McpAspire.Admin";

    /// <summary>The scopes that make a caller an admin, who may read <c>/api/*</c> (default <c>mcpaspire.admin</c>).</summary>
    public List<string>? AdminScopes { get; set; }

    /// <summary>The roles that make a caller an admin (default <c>McpAspire.Admin</c>).</summary>
    public List<string>? AdminRoles { get; set; }

    /// <summary>
    /// The rules, by name. With none, every authenticated caller may call every tool. With any, a caller may call a
    /// tool only when some rule that applies to them grants it, and sees only those tools in <c>tools/list</c>.
    /// </summary>
    public Dictionary<string, ToolRule> Rules { get; } = new(StringComparer.Ordinal);

    /// <summary>The admin scopes in force.</summary>
    public IReadOnlyList<string> EffectiveAdminScopes => AdminScopes ?? [DefaultAdminScope];

    /// <summary>The admin roles in force.</summary>
    public IReadOnlyList<string> EffectiveAdminRoles => AdminRoles ?? [DefaultAdminRole];

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, rule) in Rules)
        {
            var key = $"{SectionName}:Rules:{name}";
            if (rule.Tools.Count == 0 && rule.Packs.Count == 0)
            {
                yield return new ValidationResult($"{key} grants nothing: list Tools (names, or a prefix ending in '*') or Packs.", [nameof(Rules)]);
            }

            foreach (var pattern in rule.Tools.Where(pattern => !ToolRule.IsPattern(pattern)))
            {
                yield return new ValidationResult($"{key}:Tools has '{pattern}', which is neither a tool name nor a prefix ending in '*'.", [nameof(Rules)]);
            }

            foreach (var text in rule.Scopes.Concat(rule.Roles).Concat(rule.Packs).Where(string.IsNullOrWhiteSpace))
            {
                yield return new ValidationResult($"{key} has an empty scope, role or pack.", [nameof(Rules)]);
            }
        }
    }
}

/// <summary>
/// One authorization rule: callers with any of <see cref="Scopes"/> or <see cref="Roles"/> (every authenticated caller
/// when both are empty) may call the tools it names and every tool of the packs it names.
/// </summary>
public sealed class ToolRule
{
    /// <summary>The scopes it applies to.</summary>
    public List<string> Scopes { get; } = [];

    /// <summary>The roles it applies to.</summary>
    public List<string> Roles { get; } = [];

    /// <summary>Tool names it grants: exact names, a prefix ending in <c>*</c>, or <c>*</c> for every tool.</summary>
    public List<string> Tools { get; } = [];

    /// <summary>Packs it grants every tool of, as the nodes name them (<c>core</c>, <c>files</c>, ...).</summary>
    public List<string> Packs { get; } = [];

    /// <summary>Whether <paramref name="pattern"/> is a tool name, or a prefix of one followed by <c>*</c>.</summary>
    public static bool IsPattern(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var name = pattern.EndsWith('*') ? pattern[..^1] : pattern;
        return (name.Length == 0 && pattern.Length == 1) || RegistryRecords.IsToolName(name);
    }

    /// <summary>Whether the pattern (see <see cref="IsPattern"/>) takes in the tool named <paramref name="name"/>.</summary>
    public static bool Matches(string pattern, string name)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(name);
        return pattern.EndsWith('*') ? name.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal) : pattern == name;
    }
}
