using System.Buffers.Text;
using System.Security.Cryptography;
using McpAspire.Mcp;
using McpAspire.McpCoordinator;
using McpAspire.McpCoordinator.Sessions;
using Microsoft.Extensions.Options;

namespace McpAspire.UnitTests.Coordinator;

public sealed class PinnedSessionIdsTests
{
    private static readonly string Key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static readonly PinnedSession Alice = new("node-1", "upstream-session", new McpSessionOwner("sub", "alice", "https://issuer.example"));

    private static PinnedSessionIds Under(string? key, TimeProvider? time = null, params string[] accepted)
    {
        var options = new CoordinatorOptions { SessionKey = key };
        foreach (var other in accepted)
        {
            options.AcceptedSessionKeys.Add(other);
        }

        return new(Options.Create(options), time ?? TimeProvider.System);
    }

    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public static TheoryData<PinnedSession> Sessions =>
    [
        Alice,
        new PinnedSession("node-2", UpstreamSessionId: null, Owner: null),
        new PinnedSession("ñode-ü", new string('x', 300), new McpSessionOwner("name", "bob", "LOCAL AUTHORITY")),
    ];

    [Theory]
    [MemberData(nameof(Sessions))]
    public void A_sealed_session_opens_to_the_same_session_under_the_same_key(PinnedSession session)
    {
        var ids = Under(Key);

        Assert.True(ids.TryOpen(ids.Seal(session)!, out var opened));
        Assert.Equal(session, opened);
    }

    [Fact]
    public void Sealing_one_session_twice_gives_two_ids_of_visible_ascii()
    {
        var ids = Under(Key);

        var first = ids.Seal(Alice)!;
        var second = ids.Seal(Alice);

        Assert.NotEqual(first, second);
        Assert.All(first, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));
    }

    [Fact]
    public void Every_single_bit_flip_fails_to_open()
    {
        var ids = Under(Key);
        var bytes = Base64Url.DecodeFromChars(ids.Seal(Alice)!);

        for (var bit = 0; bit < bytes.Length * 8; bit++)
        {
            var changed = (byte[])bytes.Clone();
            changed[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(ids.TryOpen(Base64Url.EncodeToString(changed), out _), $"bit {bit} flipped still opened");
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("not base64!")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void Malformed_ids_fail_to_open(string id) => Assert.False(Under(Key).TryOpen(id, out _));

    [Fact]
    public void An_id_sealed_under_another_key_fails_to_open() =>
        Assert.False(Under(Key).TryOpen(Under(NewKey()).Seal(Alice)!, out _));

    [Fact]
    public void An_id_opens_until_its_lifetime_ends_and_not_after()
    {
        var clock = new ManualClock();
        var ids = Under(Key, clock);
        var id = ids.Seal(Alice)!;

        clock.Advance(new CoordinatorOptions().SessionLifetime - TimeSpan.FromSeconds(1));
        Assert.True(ids.TryOpen(id, out _));

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(ids.TryOpen(id, out _));
        Assert.True(ids.TryOpen(ids.Seal(Alice)!, out _));
    }

    [Fact]
    public void During_a_rotation_ids_of_the_old_key_still_open_and_new_ids_use_the_new_key()
    {
        var oldKey = Key;
        var newKey = NewKey();
        var before = Under(oldKey).Seal(Alice)!;

        var rotating = Under(newKey, accepted: oldKey);
        Assert.True(rotating.TryOpen(before, out var opened));
        Assert.Equal(Alice, opened);

        var after = rotating.Seal(Alice)!;
        Assert.True(Under(newKey).TryOpen(after, out _));
        Assert.False(Under(oldKey).TryOpen(after, out _));
        Assert.False(Under(newKey).TryOpen(before, out _));
    }

    [Fact]
    public void An_id_of_the_first_layout_without_key_id_or_expiry_no_longer_opens()
    {
        var v2 = Base64Url.DecodeFromChars(Under(Key).Seal(Alice)!);
        v2[0] = 1;

        Assert.False(Under(Key).TryOpen(Base64Url.EncodeToString(v2), out _));
    }

    [Fact]
    public void An_id_longer_than_the_limit_is_refused()
    {
        var ids = Under(Key);
        var padded = ids.Seal(Alice) + new string('A', PinnedSessionIds.MaxIdLength);

        Assert.False(ids.TryOpen(padded, out _));
    }

    [Fact]
    public void A_session_too_long_to_carry_is_not_sealed_and_the_longest_that_is_still_opens()
    {
        var ids = Under(Key);
        Assert.Null(ids.Seal(new PinnedSession("node-1", new string('x', PinnedSessionIds.MaxIdLength), Owner: null)));
        Assert.Null(ids.Seal(new PinnedSession("node-1", "short", new McpSessionOwner("sub", new string('u', PinnedSessionIds.MaxIdLength), "issuer"))));

        var length = PinnedSessionIds.MaxIdLength;
        string? id = null;
        while (id is null)
        {
            id = ids.Seal(new PinnedSession("node-1", new string('x', --length), Owner: null));
        }

        Assert.InRange(id.Length, PinnedSessionIds.MaxIdLength - 4, PinnedSessionIds.MaxIdLength);
        Assert.True(ids.TryOpen(id, out var opened));
        Assert.Equal(length, opened!.UpstreamSessionId!.Length);
    }

    [Fact]
    public void Without_a_key_sealing_says_which_setting_is_missing()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Under(null).Seal(Alice));

        Assert.Contains("Coordinator:SessionKey", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, true, true)]
    [InlineData(null, false, false)]
    [InlineData("", false, false)]
    [InlineData("c2hvcnQ=", true, false)]
    [InlineData("not base64 at all", true, false)]
    [InlineData("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", false, true)]
    [InlineData("k3Jq9ZxWv2LmTn8RpYc4HbFd7Gs1Ue6Ai0Oo5Kl2Xz9Qw", false, true)]
    [InlineData("k3Jq9ZxWv2LmTn8RpYc4HbFd7Gs1Ue6Ai0Oo5Kl2Xz9", false, true)]
    [InlineData("k3Jq9ZxWv2LmTn8RpYc4HbFd7Gs1Ue6Ai0Oo5Kl2Xz", false, false)]
    public void The_key_is_required_for_sessions_and_must_be_32_bytes_or_43_characters_when_set(string? key, bool stateless, bool valid)
    {
        var validation = new SessionKeyValidation(Options.Create(new McpEndpointOptions { Stateless = stateless }));

        var result = validation.Validate(null, new CoordinatorOptions { SessionKey = key });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains("Coordinator:SessionKey", result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_bad_accepted_session_key_is_named_by_its_index()
    {
        var options = new CoordinatorOptions { SessionKey = Key };
        options.AcceptedSessionKeys.Add(NewKey());
        options.AcceptedSessionKeys.Add("short");

        var result = new SessionKeyValidation(Options.Create(new McpEndpointOptions())).Validate(null, options);

        Assert.False(result.Succeeded);
        Assert.Contains("Coordinator:AcceptedSessionKeys:1", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("AcceptedSessionKeys:0", result.FailureMessage, StringComparison.Ordinal);
    }
}
