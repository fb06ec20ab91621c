using System.Security.Claims;
using System.Security.Cryptography;
using McpAspire.Cluster.Security;
using McpAspire.McpNode.Security;

namespace McpAspire.UnitTests.Cluster;

public sealed class CallerAssertionTests
{
    private static readonly byte[] KeyA = SHA256.HashData("caller key a"u8);
    private static readonly byte[] KeyB = SHA256.HashData("caller key b"u8);

    private static readonly CallerIdentity Ada = new("ada-sub", "https://issuer.example", "Ada", "vscode", ["files.read", "tools.read"], ["Archivist"]);

    private static CallerAssertion Under(byte[] key, TimeProvider? time = null) => new(new ClusterKeyRing([key]), time ?? TimeProvider.System);

    [Fact]
    public void A_signed_caller_reads_back_whole_under_the_same_key()
    {
        var token = Under(KeyA).Sign(Ada)!;

        Assert.True(Under(KeyA).TryRead(token, out var caller, out var problem), problem);
        Assert.Equal(Ada.Subject, caller!.Subject);
        Assert.Equal(Ada.Issuer, caller.Issuer);
        Assert.Equal(Ada.Client, caller.Client);
        Assert.Equal(Ada.Scopes, caller.Scopes);
        Assert.Equal(Ada.Roles, caller.Roles);
    }

    [Fact]
    public void A_caller_under_another_key_changed_in_any_part_or_malformed_is_refused()
    {
        var token = Under(KeyA).Sign(Ada)!;
        var parts = token.Split('.');
        var other = Under(KeyB).Sign(Ada)!;
        var swapped = string.Join('.', parts[0], parts[1], Under(KeyA).Sign(Ada with { Subject = "mallory" })!.Split('.')[2], parts[3]);

        foreach (var bad in (string[])[other, swapped, token[..^2] + "AA", $"{parts[0]}.{long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) + 1}.{parts[2]}.{parts[3]}", "", "a.b.c", new string('a', CallerAssertion.MaxLength + 1)])
        {
            Assert.False(Under(KeyA).TryRead(bad, out _, out var problem));
            Assert.Contains(CallerAssertion.HeaderName, problem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_caller_older_than_the_credentials_age_is_refused()
    {
        var clock = new ManualClock();
        var token = Under(KeyA, clock).Sign(Ada)!;

        clock.Advance(ClusterCredentials.MaxAge);
        Assert.True(Under(KeyA, clock).TryRead(token, out _, out _));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(Under(KeyA, clock).TryRead(token, out _, out var problem));
        Assert.Contains("more than 2 minutes", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_caller_with_more_claims_than_fit_is_not_signed() =>
        Assert.Null(Under(KeyA).Sign(Ada with { Scopes = [.. Enumerable.Range(0, 2000).Select(i => $"scope-{i}")] }));

    [Fact]
    public void On_the_node_a_caller_becomes_the_user_and_keeps_their_own_idempotency_space()
    {
        var user = NodeCallers.PrincipalOf(Ada);
        var bob = NodeCallers.PrincipalOf(Ada with { Subject = "bob-sub" });
        var sameSubjectOtherIssuer = NodeCallers.PrincipalOf(Ada with { Issuer = "https://other.example" });

        Assert.Equal("Ada", user.Identity!.Name);
        Assert.Equal("ada-sub", user.FindFirst(ClaimTypes.NameIdentifier)!.Value);
        Assert.True(user.IsInRole("Archivist"));
        Assert.Equal(["files.read", "tools.read"], user.FindAll(NodeCallers.ScopeClaim).Select(claim => claim.Value));
        Assert.Equal("vscode", user.FindFirst(NodeCallers.ClientClaim)!.Value);
        Assert.NotNull(NodeCallers.ScopeOf(user));
        Assert.Equal(NodeCallers.ScopeOf(user), NodeCallers.ScopeOf(NodeCallers.PrincipalOf(Ada)));
        Assert.NotEqual(NodeCallers.ScopeOf(user), NodeCallers.ScopeOf(bob));
        Assert.NotEqual(NodeCallers.ScopeOf(user), NodeCallers.ScopeOf(sameSubjectOtherIssuer));
        Assert.Null(NodeCallers.ScopeOf(NodeCallers.Coordinator));
        Assert.Null(NodeCallers.ScopeOf(new ClaimsPrincipal(new ClaimsIdentity())));
        Assert.Null(NodeCallers.ScopeOf(null));
    }
}
