using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using McpAspire.Cluster;
using McpAspire.Cluster.Security;
using Microsoft.Extensions.Options;

namespace McpAspire.UnitTests.Cluster;

public sealed class ClusterSecurityTests
{
    // Fixed, so theory data made while tests are discovered matches the keys the tests run with.
    private static readonly byte[] KeyA = SHA256.HashData("key a"u8);
    private static readonly byte[] KeyB = SHA256.HashData("key b"u8);

    private static NodeHeartbeat Heartbeat() => new()
    {
        Id = "node-1",
        McpUrl = new Uri("http://127.0.0.1:5100/mcp"),
        Status = NodeStatus.Ready,
        MaxConcurrency = 64,
        ToolsHash = new string('a', 64),
        ToolCount = 2,
        SentAt = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
        TtlMilliseconds = 6000,
    };

    private static string Json(NodeHeartbeat? heartbeat) => JsonSerializer.Serialize(heartbeat, ClusterJson.Options);

    [Fact]
    public void A_signed_heartbeat_reads_back_with_the_key_or_one_that_accepts_it()
    {
        var record = HeartbeatRecord.Write(Heartbeat(), new ClusterKeyRing([KeyA]));

        var read = HeartbeatRecord.Read(record, new ClusterKeyRing([KeyA]), out var problem);
        var rotated = HeartbeatRecord.Read(record, new ClusterKeyRing([KeyB, KeyA]), out var rotatedProblem);

        Assert.Equal((Json(Heartbeat()), (string?)null), (Json(read), problem));
        Assert.Equal((Json(Heartbeat()), (string?)null), (Json(rotated), rotatedProblem));
        Assert.StartsWith($"{HeartbeatRecord.Prefix}{ClusterKeyRing.IdOf(KeyA)} ", Encoding.UTF8.GetString(record), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_key_a_heartbeat_is_plain_json_and_a_signature_is_not_checked()
    {
        var plain = HeartbeatRecord.Write(Heartbeat(), ClusterKeyRing.None);
        var signed = HeartbeatRecord.Write(Heartbeat(), new ClusterKeyRing([KeyA]));

        Assert.Equal((byte)'{', plain[0]);
        Assert.Equal(Json(Heartbeat()), Json(HeartbeatRecord.Read(plain, ClusterKeyRing.None, out _)));
        Assert.Equal(Json(Heartbeat()), Json(HeartbeatRecord.Read(signed, ClusterKeyRing.None, out _)));
    }

    public static TheoryData<string, string> BadRecords()
    {
        var signed = Encoding.UTF8.GetString(HeartbeatRecord.Write(Heartbeat(), new ClusterKeyRing([KeyA])));
        var header = signed[..signed.IndexOf('\n', StringComparison.Ordinal)];
        return new()
        {
            { Encoding.UTF8.GetString(HeartbeatRecord.Write(Heartbeat(), ClusterKeyRing.None)), "is not signed" },
            { Encoding.UTF8.GetString(HeartbeatRecord.Write(Heartbeat(), new ClusterKeyRing([KeyB]))), "does not hold" },
            { signed.Replace("\"maxConcurrency\":64", "\"maxConcurrency\":65", StringComparison.Ordinal), "does not match its content" },
            { signed.Replace("\n", " ", StringComparison.Ordinal), "signature line is malformed" },
            { $"{HeartbeatRecord.Prefix}{ClusterKeyRing.IdOf(KeyA)}\n{{}}", "signature line is malformed" },
            { $"{HeartbeatRecord.Prefix}{ClusterKeyRing.IdOf(KeyA)} not-base64!\n{{}}", "signature line is malformed" },
            { header + "\nnull", "does not match its content" },
            { $"{HeartbeatRecord.Prefix}{new string('k', 500)} x\n{{}}", "signature line is malformed" },
        };
    }

    [Theory]
    [MemberData(nameof(BadRecords))]
    public void A_record_that_is_not_signed_with_a_held_key_is_refused_saying_why(string record, string problem)
    {
        Assert.Null(HeartbeatRecord.Read(Encoding.UTF8.GetBytes(record), new ClusterKeyRing([KeyA]), out var reason));
        Assert.Contains(problem, reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json", "not a heartbeat")]
    [InlineData("null", "JSON null")]
    [InlineData("""{"id":"n"}""", "not a heartbeat")]
    [InlineData("""{"id":"n","mcpUrl":"http://h/mcp","status":"ready","toolsHash":"x","sentAt":"not a date"}""", "not a heartbeat")]
    public void Unreadable_json_is_refused_without_throwing(string json, string problem)
    {
        Assert.Null(HeartbeatRecord.Read(Encoding.UTF8.GetBytes(json), ClusterKeyRing.None, out var reason));
        Assert.Contains(problem, reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_signature_for_one_purpose_is_not_valid_for_another()
    {
        var keys = new ClusterKeyRing([KeyA]);
        var message = "1767225600"u8.ToArray();

        var signature = keys.Sign(HeartbeatRecord.Purpose, message);

        Assert.True(keys.Verify(keys.SigningKeyId, HeartbeatRecord.Purpose, message, signature));
        Assert.False(keys.Verify(keys.SigningKeyId, ClusterCredentials.Purpose, message, signature));
        Assert.NotEqual(ClusterKeyRing.IdOf(KeyA), ClusterKeyRing.IdOf(KeyB));
        Assert.Equal(ClusterKeyRing.KeyIdLength, keys.SigningKeyId.Length);
    }

    [Fact]
    public void A_credential_is_made_once_per_renewal_and_accepted_within_its_age_by_a_node_holding_the_key()
    {
        var clock = new ManualClock();
        var coordinator = new ClusterCredentials(new ClusterKeyRing([KeyA]), clock);
        var node = new ClusterCredentials(new ClusterKeyRing([KeyB, KeyA]), clock);

        var first = coordinator.Current();
        clock.Advance(ClusterCredentials.Renewal - TimeSpan.FromSeconds(1));
        var same = coordinator.Current();
        clock.Advance(TimeSpan.FromSeconds(1));
        var renewed = coordinator.Current();

        Assert.Same(first, same);
        Assert.NotEqual(first, renewed);
        Assert.Null(node.Check(first));
        Assert.Null(node.Check(renewed));
        clock.Advance(ClusterCredentials.MaxAge + TimeSpan.FromSeconds(1));
        Assert.Contains("from this node's clock", node.Check(first), StringComparison.Ordinal);
        Assert.Contains("from this node's clock", node.Check(renewed), StringComparison.Ordinal);
    }

    [Fact]
    public void A_credential_from_the_future_beyond_the_age_is_refused()
    {
        var ahead = new ManualClock();
        ahead.Advance(TimeSpan.FromMinutes(5));
        var token = new ClusterCredentials(new ClusterKeyRing([KeyA]), ahead).Current();

        Assert.Contains("from this node's clock", new ClusterCredentials(new ClusterKeyRing([KeyA]), new ManualClock()).Check(token), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "has no McpAspire-Cluster-Credential header")]
    [InlineData("", "has no McpAspire-Cluster-Credential header")]
    [InlineData("garbage", "malformed")]
    [InlineData("a.b.c.d", "malformed")]
    [InlineData("abcd1234.-5.AAAA", "malformed")]
    [InlineData("abcd1234.99999999999999999999.AAAA", "malformed")]
    [InlineData("abcd1234.1767225600.AAAA", "malformed")]
    public void A_malformed_credential_is_refused_saying_why(string? token, string problem)
    {
        Assert.Contains(problem, new ClusterCredentials(new ClusterKeyRing([KeyA]), new ManualClock()).Check(token), StringComparison.Ordinal);
    }

    [Fact]
    public void A_credential_signed_with_another_key_or_altered_is_refused()
    {
        var clock = new ManualClock();
        var node = new ClusterCredentials(new ClusterKeyRing([KeyA]), clock);
        var other = new ClusterCredentials(new ClusterKeyRing([KeyB]), clock).Current();
        var mine = new ClusterCredentials(new ClusterKeyRing([KeyA]), clock).Current();
        var parts = mine.Split('.');
        var moved = $"{parts[0]}.{long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) + 1}.{parts[2]}";

        Assert.Contains("does not hold", node.Check(other), StringComparison.Ordinal);
        Assert.Contains("does not match", node.Check(moved), StringComparison.Ordinal);
        Assert.Null(node.Check(mine));
    }

    [Theory]
    [InlineData("short", null, "Cluster:Key must be")]
    [InlineData(null, "short", "Cluster:AcceptedKeys is set without Cluster:Key")]
    [InlineData("0123456789012345678901234567890123456789abc", "short", "Cluster:AcceptedKeys:0 must be")]
    public void Bad_cluster_keys_are_refused_naming_the_key(string? key, string? accepted, string message)
    {
        var options = new ClusterOptions { Key = key };
        if (accepted is not null)
        {
            options.AcceptedKeys.Add(accepted);
        }

        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);

        Assert.Contains(results, result => result.ErrorMessage!.StartsWith(message, StringComparison.Ordinal));
    }

    [Fact]
    public void A_ring_read_from_options_signs_with_the_key_and_accepts_the_accepted_ones()
    {
        var options = new ClusterOptions { Key = Convert.ToBase64String(KeyA) };
        options.AcceptedKeys.Add(Convert.ToBase64String(KeyB));

        var ring = new ClusterKeyRing(Options.Create(options));

        Assert.Equal(ClusterKeyRing.IdOf(KeyA), ring.SigningKeyId);
        Assert.True(ring.Holds(ClusterKeyRing.IdOf(KeyB)));
        Assert.False(new ClusterKeyRing(Options.Create(new ClusterOptions())).IsEnabled);
        Assert.Throws<InvalidOperationException>(() => ClusterKeyRing.None.SigningKeyId);
    }

    [Fact]
    public void A_tool_catalog_is_named_by_the_hash_of_its_content()
    {
        var catalog = ToolCatalog.Of([new ModelContextProtocol.Protocol.Tool { Name = "echo" }]);

        Assert.Equal(ToolCatalog.HashOf(catalog.Json.Span), catalog.Hash);
        Assert.True(ToolCatalog.IsHash(catalog.Hash));
        Assert.False(ToolCatalog.IsHash(catalog.Hash.ToUpperInvariant()));
        Assert.False(ToolCatalog.IsHash(catalog.Hash[1..]));
        Assert.Equal($"mcpaspire:tools:{catalog.Hash}", ClusterKeys.Tools(catalog.Hash));
    }
}
