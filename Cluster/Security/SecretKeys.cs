using System.Text;

namespace McpAspire.Cluster.Security;

/// <summary>
/// How the services read a secret key from configuration: 32 random bytes in base64 (e.g. from
/// <c>openssl rand -base64 32</c>), or a random text of at least <see cref="MinTextLength"/> characters, such as the
/// AppHost and azd generate.
/// </summary>
public static class SecretKeys
{
    /// <summary>
    /// The fewest characters a key that is not base64 may have: 43 letters and digits carry 256 bits when drawn at
    /// random, as much as 32 random bytes.
    /// </summary>
    public const int MinTextLength = 43;

    /// <summary>What a key must look like, for error messages.</summary>
    public const string Rule = "32 random bytes in base64 (44 characters, e.g. from 'openssl rand -base64 32'), or a random text of at least 43 characters";

    /// <summary>
    /// The secret bytes of <paramref name="text"/>: the 32 bytes it encodes when it is the base64 of exactly 32 bytes,
    /// else its UTF-8 bytes when it is at least <see cref="MinTextLength"/> characters long.
    /// </summary>
    public static bool TryRead(string? text, out byte[] key)
    {
        key = [];
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var trimmed = text.Trim();
        var buffer = new byte[32];
        if (Convert.TryFromBase64String(trimmed, buffer, out var written) && written == buffer.Length)
        {
            key = buffer;
            return true;
        }

        if (trimmed.Length < MinTextLength)
        {
            return false;
        }

        key = Encoding.UTF8.GetBytes(trimmed);
        return true;
    }
}
