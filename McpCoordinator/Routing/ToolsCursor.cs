using System.Buffers.Text;
using System.Text;

namespace McpAspire.McpCoordinator.Routing;

/// <summary>
/// The opaque cursor of a <c>tools/list</c> page: the name of the page's last tool, marked and in URL-safe
/// base64. Clients must treat it as opaque; the coordinator checks its form and mark, so a malformed one is refused.
/// </summary>
public static class ToolsCursor
{
    /// <summary>The longest cursor accepted; tool names are short, so anything longer is made up.</summary>
    public const int MaxLength = 1024;

    private const string Mark = "tools-after:";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The cursor for the page after the tool named <paramref name="lastName"/>.</summary>
    public static string Encode(string lastName) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Mark + lastName));

    /// <summary>The tool name a cursor continues after, or <see langword="null"/> when it is not a cursor this class made.</summary>
    public static string? Decode(string cursor)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        if (cursor.Length > MaxLength || !Base64Url.IsValid(cursor))
        {
            return null;
        }

        try
        {
            var text = StrictUtf8.GetString(Base64Url.DecodeFromChars(cursor));
            return text.StartsWith(Mark, StringComparison.Ordinal) ? text[Mark.Length..] : null;
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
