using System.Text;
using System.Text.RegularExpressions;

namespace McpAspire.McpCoordinator.Registry;

/// <summary>
/// Which URIs a resource template (RFC 6570) can expand to, so a <c>resources/read</c> of a URI that no node lists
/// goes to a node whose template takes it. Each expression matches what it could expand to: <c>{x}</c> one segment
/// (no <c>/</c>, <c>?</c> or <c>#</c>), <c>{+x}</c> and <c>{#x}</c> anything, <c>{/x}</c> path segments,
/// <c>{?x}</c> and <c>{&amp;x}</c> a query. The pattern runs without backtracking, so no template from the registry
/// can make a match slow.
/// </summary>
public static class UriTemplatePattern
{
    /// <summary>The longest template compiled; a longer one matches nothing.</summary>
    public const int MaxLength = 2048;

    /// <summary>The pattern of <paramref name="uriTemplate"/>, or <see langword="null"/> when it is not a template this reads.</summary>
    public static Regex? Compile(string uriTemplate)
    {
        ArgumentNullException.ThrowIfNull(uriTemplate);
        if (uriTemplate.Length is 0 or > MaxLength)
        {
            return null;
        }

        var pattern = new StringBuilder("^");
        var at = 0;
        while (at < uriTemplate.Length)
        {
            var open = uriTemplate.IndexOf('{', at);
            if (open < 0)
            {
                pattern.Append(Regex.Escape(uriTemplate[at..]));
                break;
            }

            var close = uriTemplate.IndexOf('}', open);
            if (close < 0 || uriTemplate.IndexOf('}', at) < open)
            {
                return null;
            }

            pattern.Append(Regex.Escape(uriTemplate[at..open]));
            var expression = uriTemplate[(open + 1)..close];
            if (expression.Length == 0)
            {
                return null;
            }

            pattern.Append(expression[0] switch
            {
                '+' or '#' => ".*",
                '/' => "(/[^/?#]*)*",
                '?' or '&' => "([?&][^#]*)?",
                '.' => @"(\.[^/?#.]*)*",
                ';' => "(;[^/?#]*)*",
                _ => "[^/?#]*",
            });
            at = close + 1;
        }

        pattern.Append('$');
        return new Regex(pattern.ToString(), RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
    }
}
