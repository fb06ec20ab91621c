using System.Text;
using System.Text.Json;
using McpAspire.Cluster.Security;

namespace McpAspire.Cluster;

/// <summary>
/// A heartbeat as the store holds it. Signed, it is one header line and the heartbeat's JSON:
/// <c>mcpaspire-hb1 {key id} {HMAC-SHA256, base64url}\n{json}</c>; the signature covers the JSON bytes exactly as
/// stored, so nothing has to be put in a canonical form first. Without a cluster key it is the JSON alone.
/// </summary>
public static class HeartbeatRecord
{
    /// <summary>What a signed record starts with.</summary>
    public const string Prefix = "mcpaspire-hb1 ";

    /// <summary>The purpose label of a heartbeat signature (see <see cref="ClusterKeyRing"/>).</summary>
    public const string Purpose = "mcpaspire-heartbeat-v1";

    /// <summary>The longest header line: the prefix, a key id, a signature and the separators.</summary>
    private const int MaxHeaderLength = 96;

    /// <summary>Writes <paramref name="heartbeat"/> as a record, signed when <paramref name="keys"/> has a key.</summary>
    public static byte[] Write(NodeHeartbeat heartbeat, ClusterKeyRing keys)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        ArgumentNullException.ThrowIfNull(keys);
        var json = JsonSerializer.SerializeToUtf8Bytes(heartbeat, ClusterJson.Options);
        if (!keys.IsEnabled)
        {
            return json;
        }

        var header = Encoding.ASCII.GetBytes($"{Prefix}{keys.SigningKeyId} {ClusterKeyRing.Encode(keys.Sign(Purpose, json))}\n");
        return [.. header, .. json];
    }

    /// <summary>
    /// Reads a record: checks its signature when <paramref name="keys"/> has a key (a ring without one ignores any
    /// signature) and parses its JSON. Never throws on hostile content; <paramref name="problem"/> says what is wrong.
    /// </summary>
    public static NodeHeartbeat? Read(ReadOnlySpan<byte> record, ClusterKeyRing keys, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var json = record;
        if (record.StartsWith(Encoding.ASCII.GetBytes(Prefix)))
        {
            var end = record[..Math.Min(record.Length, MaxHeaderLength)].IndexOf((byte)'\n');
            if (end < 0)
            {
                problem = "its signature line is malformed";
                return null;
            }

            json = record[(end + 1)..];
            if (keys.IsEnabled && !Verify(record[Prefix.Length..end], json, keys, out problem))
            {
                return null;
            }
        }
        else if (keys.IsEnabled)
        {
            problem = "it is not signed, and this coordinator accepts only heartbeats signed with the cluster key (Cluster:Key)";
            return null;
        }

        try
        {
            var heartbeat = JsonSerializer.Deserialize<NodeHeartbeat>(json, ClusterJson.Options);
            problem = heartbeat is null ? "it is JSON null" : null;
            return heartbeat;
        }
        catch (JsonException ex)
        {
            problem = $"it is not a heartbeat: {Shorten(ex.Message)}";
            return null;
        }
    }

    private static bool Verify(ReadOnlySpan<byte> header, ReadOnlySpan<byte> json, ClusterKeyRing keys, out string? problem)
    {
        Span<char> text = stackalloc char[header.Length];
        var length = Encoding.ASCII.GetChars(header, text);
        var line = text[..length];
        var space = line.IndexOf(' ');
        if (space < 0 || !ClusterKeyRing.TryDecode(line[(space + 1)..], out var signature))
        {
            problem = "its signature line is malformed";
            return false;
        }

        var keyId = line[..space];
        if (!keys.Holds(keyId))
        {
            problem = $"it is signed with a key this coordinator does not hold (key id '{Shorten(keyId.ToString())}')";
            return false;
        }

        if (!keys.Verify(keyId, Purpose, json, signature))
        {
            problem = "its signature does not match its content";
            return false;
        }

        problem = null;
        return true;
    }

    /// <summary>Cuts text that came from a record to a length fit for a log line.</summary>
    public static string Shorten(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        const int Max = 200;
        return text.Length <= Max ? text : string.Concat(text.AsSpan(0, Max), "…");
    }
}
