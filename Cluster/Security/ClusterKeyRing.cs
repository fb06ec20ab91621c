using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace McpAspire.Cluster.Security;

/// <summary>
/// The cluster keys of <see cref="ClusterOptions"/>, ready to sign and check: HMAC-SHA256, with a purpose label in
/// every message so that a signature made for one purpose (a heartbeat) is never valid for another (a call
/// credential). Each key has a short public id derived from it, so a checker finds the key without trying them all.
/// </summary>
public sealed class ClusterKeyRing
{
    /// <summary>The length of a key id in characters (hex).</summary>
    public const int KeyIdLength = 8;

    /// <summary>The length of a signature in bytes.</summary>
    public const int SignatureLength = HMACSHA256.HashSizeInBytes;

    private readonly Key[] _keys;

    /// <summary>A ring with no key: nothing is signed and nothing is checked.</summary>
    public static ClusterKeyRing None { get; } = new([]);

    /// <summary>Reads the ring from <paramref name="options"/>, which must have passed validation.</summary>
    public ClusterKeyRing(IOptions<ClusterOptions> options)
        : this(ReadKeys(options?.Value ?? throw new ArgumentNullException(nameof(options))))
    {
    }

    /// <summary>A ring of <paramref name="secrets"/>; the first one signs.</summary>
    public ClusterKeyRing(IReadOnlyList<byte[]> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        _keys = [.. secrets.Select(secret => new Key(IdOf(secret), secret))];
    }

    /// <summary>Whether there is a key: then every record and call is signed and checked.</summary>
    public bool IsEnabled => _keys.Length > 0;

    /// <summary>The id of the key this service signs with.</summary>
    /// <exception cref="InvalidOperationException">The ring has no key.</exception>
    public string SigningKeyId => Signing.Id;

    private Key Signing => _keys.Length > 0 ? _keys[0] : throw new InvalidOperationException("Cluster:Key is not set, so nothing can be signed.");

    /// <summary>Signs <paramref name="message"/> for <paramref name="purpose"/> with the signing key.</summary>
    public byte[] Sign(string purpose, ReadOnlySpan<byte> message) => Mac(Signing.Secret, purpose, message);

    /// <summary>
    /// Whether <paramref name="signature"/> is the signature of <paramref name="message"/> for <paramref name="purpose"/>
    /// by the key with id <paramref name="keyId"/>, which this ring must hold.
    /// </summary>
    public bool Verify(ReadOnlySpan<char> keyId, string purpose, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        foreach (var key in _keys)
        {
            if (keyId.SequenceEqual(key.Id))
            {
                return signature.Length == SignatureLength && CryptographicOperations.FixedTimeEquals(Mac(key.Secret, purpose, message), signature);
            }
        }

        return false;
    }

    /// <summary>Whether this ring holds the key with id <paramref name="keyId"/>.</summary>
    public bool Holds(ReadOnlySpan<char> keyId)
    {
        foreach (var key in _keys)
        {
            if (keyId.SequenceEqual(key.Id))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The public id of a key: the start of a hash of it, which reveals nothing of the key.</summary>
    public static string IdOf(ReadOnlySpan<byte> secret)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        HMACSHA256.HashData(secret, "mcpaspire-key-id"u8, hash);
        return Convert.ToHexStringLower(hash[..(KeyIdLength / 2)]);
    }

    private static byte[] Mac(byte[] secret, string purpose, ReadOnlySpan<byte> message)
    {
        var prefixLength = Encoding.UTF8.GetByteCount(purpose) + 1;
        var buffer = ArrayPool<byte>.Shared.Rent(prefixLength + message.Length);
        try
        {
            var written = Encoding.UTF8.GetBytes(purpose, buffer);
            buffer[written] = (byte)'\n';
            message.CopyTo(buffer.AsSpan(prefixLength));
            return HMACSHA256.HashData(secret, buffer.AsSpan(0, prefixLength + message.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A signature as text: unpadded base64url.</summary>
    public static string Encode(ReadOnlySpan<byte> signature) => Base64Url.EncodeToString(signature);

    /// <summary>Reads a signature written by <see cref="Encode"/>; <see langword="false"/> when it is not one.</summary>
    public static bool TryDecode(ReadOnlySpan<char> text, out byte[] signature)
    {
        signature = new byte[SignatureLength];
        return text.Length == Base64Url.GetEncodedLength(SignatureLength)
            && Base64Url.TryDecodeFromChars(text, signature, out var written)
            && written == SignatureLength;
    }

    private static List<byte[]> ReadKeys(ClusterOptions options)
    {
        var secrets = new List<byte[]>();
        foreach (var text in (string?[])[options.Key, .. options.AcceptedKeys])
        {
            if (text is not null && SecretKeys.TryRead(text, out var secret))
            {
                secrets.Add(secret);
            }
        }

        return secrets;
    }

    private sealed record Key(string Id, byte[] Secret);
}
