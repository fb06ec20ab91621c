using System.Buffers.Text;
using System.Text;

namespace McpAspire.McpCoordinator.Routing;

/// <summary>
/// The opaque cursor of a list page (<c>tools/list</c>, <c>resources/list</c>, ...): the key of the page's last item
/// (a tool's name, a resource's URI), marked with its list and in URL-safe base64. Clients must treat it as opaque;
/// the coordinator checks its form and mark, so a malformed one, or one of another list, is refused.
/// </summary>
public static class ListCursor
{
    /// <summary>The longest cursor accepted: room for a resource URI of 2048 characters, so anything longer is made up.</summary>
    public const int MaxLength = 4096;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The cursor for the page of <paramref name="list"/> after the item keyed <paramref name="lastKey"/>.</summary>
    public static string Encode(string list, string lastKey) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{list}-after:{lastKey}"));

    /// <summary>The key a cursor of <paramref name="list"/> names, or <see langword="null"/> when it is not one this coordinator gave out for that list.</summary>
    public static string? Decode(string list, string cursor)
    {
        ArgumentNullException.ThrowIfNull(list);
        ArgumentNullException.ThrowIfNull(cursor);
        if (cursor.Length > MaxLength || !Base64Url.IsValid(cursor))
        {
            return null;
        }

        try
        {
            var text = StrictUtf8.GetString(Base64Url.DecodeFromChars(cursor));
            var mark = $"{list}-after:";
            return text.StartsWith(mark, StringComparison.Ordinal) ? text[mark.Length..] : null;
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
