using McpAspire.Cluster;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;

namespace McpAspire.McpCoordinator.Security;

/// <summary>
/// Decides, per request, whether a caller may call a tool and whether they are an admin, from
/// <see cref="AccessOptions"/>. Nothing is cached between requests: a scope taken away shows on the caller's next
/// request, whatever session they are in.
/// </summary>
public sealed class ToolAccess
{
    private readonly Rule[] _rules;
    private readonly string[] _adminScopes;
    private readonly string[] _adminRoles;

    /// <summary>Reads the rules; <paramref name="enabled"/> is whether callers are authenticated at all.</summary>
    public ToolAccess(IOptions<AccessOptions> options, bool enabled)
    {
        ArgumentNullException.ThrowIfNull(options);
        IsEnabled = enabled;
        var access = options.Value;
        _rules = [.. access.Rules.Values.Select(rule => new Rule(
            [.. rule.Scopes], [.. rule.Roles],
            [.. rule.Tools.Where(pattern => !pattern.EndsWith('*'))],
            [.. rule.Tools.Where(pattern => pattern.EndsWith('*')).Select(pattern => pattern[..^1])],
            [.. rule.Packs]))];
        _adminScopes = [.. access.EffectiveAdminScopes];
        _adminRoles = [.. access.EffectiveAdminRoles];
    }

    /// <summary>Whether callers are authenticated, so these rules apply.</summary>
    public bool IsEnabled { get; }

    /// <summary>Whether any rule restricts tools; without one, every authenticated caller may call every tool.</summary>
    public bool HasRules => _rules.Length > 0;

    /// <summary>Every scope the rules and the admin policy name, for the resource metadata.</summary>
    public IEnumerable<string> Scopes => _rules.SelectMany(rule => rule.Scopes).Concat(_adminScopes).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);

    /// <summary>
    /// Whether <paramref name="caller"/> may call <paramref name="name"/>, whose served definition is
    /// <paramref name="tool"/> (<see langword="null"/> when no node offers it). The answer depends on the tool's
    /// definition only through its pack, so a refusal says nothing of whether the tool exists.
    /// </summary>
    public bool MayCall(Caller caller, string name, Tool? tool)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(name);
        if (!IsEnabled || !HasRules)
        {
            return true;
        }

        var pack = tool is null ? null : ToolCatalog.PackOf(tool);
        foreach (var rule in _rules)
        {
            if (rule.AppliesTo(caller) && rule.Grants(name, pack))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="caller"/> may call <paramref name="tool"/>.</summary>
    public bool MayCall(Caller caller, Tool tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        return MayCall(caller, tool.Name, tool);
    }

    /// <summary>Whether <paramref name="caller"/> holds an admin scope or role; everyone is, while callers are not authenticated.</summary>
    public bool IsAdmin(Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return !IsEnabled || _adminScopes.Any(caller.Scopes.Contains) || _adminRoles.Any(caller.Roles.Contains);
    }

    private sealed record Rule(string[] Scopes, string[] Roles, string[] Names, string[] Prefixes, string[] Packs)
    {
        public bool AppliesTo(Caller caller) =>
            caller.IsAuthenticated && ((Scopes.Length == 0 && Roles.Length == 0) || Scopes.Any(caller.Scopes.Contains) || Roles.Any(caller.Roles.Contains));

        public bool Grants(string name, string? pack) =>
            Names.Contains(name, StringComparer.Ordinal)
            || Prefixes.Any(prefix => name.StartsWith(prefix, StringComparison.Ordinal))
            || (pack is not null && Packs.Contains(pack, StringComparer.Ordinal));
    }
}
