using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using McpAspire.Cluster.Security;
using Microsoft.Extensions.Options;

namespace McpAspire.McpCoordinator.Sessions;

/// <summary>
/// Turns a pinned session into the <c>Mcp-Session-Id</c> the client sees, and back. The id is the session
/// sealed with AES-256-GCM under a key derived from <see cref="CoordinatorOptions.SessionKey"/>: any replica
/// with the key can route it without a lookup, the client can neither read nor change it, and any change
/// to it, or an id sealed under another key, fails to open.
/// </summary>
public sealed class PinnedSessionIds
{
    /// <summary>The longest id this opens; longer ones are refused before any decoding.</summary>
    public const int MaxIdLength = 4096;

    /// <summary>The first byte of every sealed id: the layout below, so a future layout can be told apart.</summary>
    private const byte LayoutVersion = 1;

    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private const int HeaderBytes = 1 + NonceBytes + TagBytes;

    private static readonly byte[] Purpose = Encoding.ASCII.GetBytes("McpAspire coordinator session id v1");

    private readonly byte[] _key;

    /// <summary>Derives the sealing key from the configured one. Without one, sealing and opening throw.</summary>
    public PinnedSessionIds(IOptions<CoordinatorOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _key = SecretKeys.TryRead(options.Value.SessionKey, out var secret)
            ? HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, salt: [], info: Purpose)
            : [];
    }

    /// <summary>
    /// The client-facing id of <paramref name="session"/>: visible ASCII (URL-safe base64), as the spec requires.
    /// <see langword="null"/> when it would be longer than <see cref="MaxIdLength"/> (a node session id or user
    /// claim of kilobytes), since no replica would open it.
    /// </summary>
    public string? Seal(PinnedSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        var plain = Serialize(session);
        if (Base64Url.GetEncodedLength(HeaderBytes + plain.Length) > MaxIdLength)
        {
            return null;
        }

        var sealedBytes = new byte[HeaderBytes + plain.Length];
        sealedBytes[0] = LayoutVersion;
        var nonce = sealedBytes.AsSpan(1, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using (var aes = CreateCipher())
        {
            aes.Encrypt(nonce, plain, sealedBytes.AsSpan(HeaderBytes), sealedBytes.AsSpan(1 + NonceBytes, TagBytes), sealedBytes.AsSpan(0, 1));
        }

        return Base64Url.EncodeToString(sealedBytes);
    }

    /// <summary>
    /// Opens an id made by <see cref="Seal"/> under the same key. Anything else (not base64, too short or
    /// long, another layout, changed in any bit, or sealed under another key) gives <see langword="false"/>.
    /// </summary>
    public bool TryOpen(string id, out PinnedSession? session)
    {
        ArgumentNullException.ThrowIfNull(id);
        session = null;
        if (id.Length > MaxIdLength || !Base64Url.IsValid(id, out var length) || length <= HeaderBytes)
        {
            return false;
        }

        var sealedBytes = Base64Url.DecodeFromChars(id);
        if (sealedBytes[0] != LayoutVersion)
        {
            return false;
        }

        var plain = new byte[sealedBytes.Length - HeaderBytes];
        try
        {
            using var aes = CreateCipher();
            aes.Decrypt(sealedBytes.AsSpan(1, NonceBytes), sealedBytes.AsSpan(HeaderBytes), sealedBytes.AsSpan(1 + NonceBytes, TagBytes), plain, sealedBytes.AsSpan(0, 1));
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }

        // Authenticated, so these are bytes this class wrote.
        session = Deserialize(plain);
        return true;
    }

    /// <summary>A cipher per call: instances are cheap, and one instance must not be used by two threads at once.</summary>
    private AesGcm CreateCipher() => _key.Length > 0
        ? new AesGcm(_key, TagBytes)
        : throw new InvalidOperationException("Coordinator:SessionKey is not set; stateful sessions need it.");

    private static byte[] Serialize(PinnedSession session)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(session.NodeId);
            WriteOptional(writer, session.UpstreamSessionId);
            writer.Write(session.Owner.HasValue);
            if (session.Owner is { } owner)
            {
                writer.Write(owner.ClaimType);
                writer.Write(owner.Value);
                writer.Write(owner.Issuer);
            }
        }

        return buffer.ToArray();
    }

    private static PinnedSession Deserialize(byte[] plain)
    {
        using var reader = new BinaryReader(new MemoryStream(plain), Encoding.UTF8);
        var nodeId = reader.ReadString();
        var upstream = reader.ReadBoolean() ? reader.ReadString() : null;
        McpSessionOwner? owner = reader.ReadBoolean() ? new McpSessionOwner(reader.ReadString(), reader.ReadString(), reader.ReadString()) : null;
        return new PinnedSession(nodeId, upstream, owner);
    }

    private static void WriteOptional(BinaryWriter writer, string? value)
    {
        writer.Write(value is not null);
        if (value is not null)
        {
            writer.Write(value);
        }
    }
}

/// <summary>A client's session with the coordinator: the node it is pinned to, and that node's session.</summary>
/// <param name="NodeId">The node that holds the session.</param>
/// <param name="UpstreamSessionId">The node's <c>Mcp-Session-Id</c>; <see langword="null"/> when the node gave none (a stateless node).</param>
/// <param name="Owner">The user who opened the session; <see langword="null"/> when anonymous.</param>
public sealed record PinnedSession(string NodeId, string? UpstreamSessionId, McpSessionOwner? Owner);
