using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace McpAspire.Cluster.Security;

/// <summary>
/// The credential a coordinator puts on every call to a node, so a node can refuse callers that bypass the gateway:
/// <c>{key id}.{unix seconds}.{HMAC-SHA256 of both, base64url}</c>, under the cluster key. A coordinator makes a
/// new one every <see cref="Renewal"/>; a node accepts one made within <see cref="MaxAge"/> of its own clock, either
/// way. Making and checking cost one HMAC per renewal, not per call.
/// </summary>
public sealed class ClusterCredentials(ClusterKeyRing keys, TimeProvider time)
{
    /// <summary>The request header that carries the credential.</summary>
    public const string HeaderName = "McpAspire-Cluster-Credential";

    /// <summary>The purpose label of a credential's signature (see <see cref="ClusterKeyRing"/>).</summary>
    public const string Purpose = "mcpaspire-call-v1";

    /// <summary>How often a coordinator makes a new credential.</summary>
    public static readonly TimeSpan Renewal = TimeSpan.FromSeconds(30);

    /// <summary>How far a credential's time may be from the node's clock, for clocks that differ and for renewal.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(2);

    private Issued? _issued;
    private Issued? _accepted;

    /// <summary>Whether there is a cluster key, so credentials are made and required.</summary>
    public bool IsEnabled => keys.IsEnabled;

    /// <summary>A credential to send now.</summary>
    /// <exception cref="InvalidOperationException">There is no cluster key.</exception>
    public string Current()
    {
        var now = time.GetUtcNow();
        var issued = Volatile.Read(ref _issued);
        if (issued is not null && now - issued.At < Renewal && issued.At <= now)
        {
            return issued.Token;
        }

        var seconds = now.ToUnixTimeSeconds();
        var claim = string.Create(CultureInfo.InvariantCulture, $"{keys.SigningKeyId}.{seconds}");
        var token = $"{claim}.{ClusterKeyRing.Encode(keys.Sign(Purpose, Encoding.ASCII.GetBytes(claim)))}";
        Volatile.Write(ref _issued, new Issued(token, DateTimeOffset.FromUnixTimeSeconds(seconds)));
        return token;
    }

    /// <summary>Why <paramref name="token"/> is not a valid credential now, or <see langword="null"/> when it is.</summary>
    public string? Check(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return $"the request has no {HeaderName} header";
        }

        var now = time.GetUtcNow();
        var accepted = Volatile.Read(ref _accepted);
        if (accepted is not null && SameToken(accepted.Token, token))
        {
            return Fresh(accepted.At, now);
        }

        var parts = token.Split('.');
        if (parts.Length != 3 || token.Length > 128
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds()
            || !ClusterKeyRing.TryDecode(parts[2], out var signature))
        {
            return "the credential is malformed";
        }

        if (!keys.Holds(parts[0]))
        {
            return "the credential is signed with a key this node does not hold";
        }

        if (!keys.Verify(parts[0], Purpose, Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), signature))
        {
            return "the credential's signature does not match";
        }

        var at = DateTimeOffset.FromUnixTimeSeconds(seconds);
        var problem = Fresh(at, now);
        if (problem is null)
        {
            Volatile.Write(ref _accepted, new Issued(token, at));
        }

        return problem;
    }

    private static string? Fresh(DateTimeOffset at, DateTimeOffset now) =>
        (now - at).Duration() <= MaxAge ? null : $"the credential was made at {at:O}, more than {MaxAge.TotalMinutes:0} minutes from this node's clock";

    private static bool SameToken(string known, string token) =>
        known.Length == token.Length
        && CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(known.AsSpan()), MemoryMarshal.AsBytes(token.AsSpan()));

    private sealed record Issued(string Token, DateTimeOffset At);
}
