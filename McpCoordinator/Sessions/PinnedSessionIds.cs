using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using McpAspire.Cluster.Security;
using Microsoft.Extensions.Options;

namespace McpAspire.McpCoordinator.Sessions;

/// <summary>
/// Turns a pinned session into the <c>Mcp-Session-Id</c> the client sees, and back. The id is the session
/// sealed with AES-256-GCM under a key derived from <see cref="CoordinatorOptions.SessionKey"/>, with the key's id and
/// the id's expiry (<see cref="CoordinatorOptions.SessionLifetime"/>) authenticated beside it: any replica with the key
/// can route it without a lookup, the client can neither read nor change it, an id sealed under another key or changed
/// in any bit fails to open, and so does an expired one. Ids sealed under a key in
/// <see cref="CoordinatorOptions.AcceptedSessionKeys"/> still open, so the key can be rotated without ending sessions.
/// </summary>
public sealed class PinnedSessionIds
{
    /// <summary>The longest id this opens; longer ones are refused before any decoding.</summary>
    public const int MaxIdLength = 4096;

    /// <summary>The first byte of every sealed id: the layout below, so a future layout can be told apart.</summary>
    private const byte LayoutVersion = 2;

    private const int KeyIdBytes = 4;
    private const int ExpiryBytes = 8;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    /// <summary>The bytes authenticated in the clear: layout, key id, expiry.</summary>
    private const int PrefixBytes = 1 + KeyIdBytes + ExpiryBytes;
    private const int HeaderBytes = PrefixBytes + NonceBytes + TagBytes;

    private static readonly byte[] Purpose = Encoding.ASCII.GetBytes("McpAspire coordinator session id v2");

    private readonly SessionKey[] _keys;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;

    /// <summary>Derives the sealing keys from the configured ones. Without a <see cref="CoordinatorOptions.SessionKey"/>, sealing and opening throw.</summary>
    public PinnedSessionIds(IOptions<CoordinatorOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        var settings = options.Value;
        _time = time;
        _lifetime = settings.SessionLifetime;
        _keys = SecretKeys.TryRead(settings.SessionKey, out _)
            ? [.. ((string?[])[settings.SessionKey, .. settings.AcceptedSessionKeys])
                .Select(text => SecretKeys.TryRead(text, out var secret) ? secret : null)
                .OfType<byte[]>()
                .Select(secret => new SessionKey(
                    Convert.FromHexString(ClusterKeyRing.IdOf(secret)),
                    HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, salt: [], info: Purpose)))]
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
        var key = _keys.Length > 0 ? _keys[0] : throw new InvalidOperationException("Coordinator:SessionKey is not set; stateful sessions need it.");
        var plain = Serialize(session);
        if (Base64Url.GetEncodedLength(HeaderBytes + plain.Length) > MaxIdLength)
        {
            return null;
        }

        var sealedBytes = new byte[HeaderBytes + plain.Length];
        sealedBytes[0] = LayoutVersion;
        key.Id.CopyTo(sealedBytes.AsSpan(1));
        BinaryPrimitives.WriteInt64BigEndian(sealedBytes.AsSpan(1 + KeyIdBytes), (_time.GetUtcNow() + _lifetime).ToUnixTimeSeconds());
        var nonce = sealedBytes.AsSpan(PrefixBytes, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using (var aes = new AesGcm(key.Secret, TagBytes))
        {
            aes.Encrypt(nonce, plain, sealedBytes.AsSpan(HeaderBytes), sealedBytes.AsSpan(PrefixBytes + NonceBytes, TagBytes), sealedBytes.AsSpan(0, PrefixBytes));
        }

        return Base64Url.EncodeToString(sealedBytes);
    }

    /// <summary>
    /// Opens an id made by <see cref="Seal"/> under one of the keys, before it expires. Anything else (not base64,
    /// too short or long, another layout, changed in any bit, sealed under another key, or expired) gives
    /// <see langword="false"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">There is no session key.</exception>
    public bool TryOpen(string id, out PinnedSession? session)
    {
        ArgumentNullException.ThrowIfNull(id);
        session = null;
        if (_keys.Length == 0)
        {
            throw new InvalidOperationException("Coordinator:SessionKey is not set; stateful sessions need it.");
        }

        if (id.Length > MaxIdLength || !Base64Url.IsValid(id, out var length) || length <= HeaderBytes)
        {
            return false;
        }

        var sealedBytes = Base64Url.DecodeFromChars(id);
        if (sealedBytes[0] != LayoutVersion || KeyOf(sealedBytes.AsSpan(1, KeyIdBytes)) is not { } key)
        {
            return false;
        }

        var plain = new byte[sealedBytes.Length - HeaderBytes];
        try
        {
            using var aes = new AesGcm(key.Secret, TagBytes);
            aes.Decrypt(sealedBytes.AsSpan(PrefixBytes, NonceBytes), sealedBytes.AsSpan(HeaderBytes), sealedBytes.AsSpan(PrefixBytes + NonceBytes, TagBytes), plain, sealedBytes.AsSpan(0, PrefixBytes));
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }

        // Authenticated, so these are bytes this class wrote, and the expiry is the one it set.
        if (BinaryPrimitives.ReadInt64BigEndian(sealedBytes.AsSpan(1 + KeyIdBytes)) <= _time.GetUtcNow().ToUnixTimeSeconds())
        {
            return false;
        }

        session = Deserialize(plain);
        return true;
    }

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

            WriteOptional(writer, session.QuotaSlot);
        }

        return buffer.ToArray();
    }

    private static PinnedSession Deserialize(byte[] plain)
    {
        using var reader = new BinaryReader(new MemoryStream(plain), Encoding.UTF8);
        var nodeId = reader.ReadString();
        var upstream = reader.ReadBoolean() ? reader.ReadString() : null;
        McpSessionOwner? owner = reader.ReadBoolean() ? new McpSessionOwner(reader.ReadString(), reader.ReadString(), reader.ReadString()) : null;
        var slot = reader.ReadBoolean() ? reader.ReadString() : null;
        return new PinnedSession(nodeId, upstream, owner, slot);
    }

    private SessionKey? KeyOf(ReadOnlySpan<byte> id)
    {
        foreach (var key in _keys)
        {
            if (id.SequenceEqual(key.Id))
            {
                return key;
            }
        }

        return null;
    }

    private sealed record SessionKey(byte[] Id, byte[] Secret);

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
/// <param name="QuotaSlot">The slot the session holds in its caller's count of sessions (see <c>SessionQuota</c>); <see langword="null"/> when not counted.</param>
public sealed record PinnedSession(string NodeId, string? UpstreamSessionId, McpSessionOwner? Owner, string? QuotaSlot = null);
