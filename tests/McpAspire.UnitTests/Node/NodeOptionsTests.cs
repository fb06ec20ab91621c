using System.ComponentModel.DataAnnotations;
using McpAspire.McpNode;

namespace McpAspire.UnitTests.Node;

public sealed class NodeOptionsTests
{
    [Fact]
    public void Defaults_are_valid() => Assert.Empty(Validate(new NodeOptions()));

    [Fact]
    public void Pack_names_are_trimmed_lower_cased_and_deduplicated() =>
        Assert.Equal(["core"], new NodeOptions { Packs = " Core, core ,," }.PackNames);

    [Theory]
    [InlineData("core,nosuchpack", "Node:Packs names unknown pack(s) 'nosuchpack'")]
    [InlineData(" , ", "Node:Packs")]
    public void An_unknown_or_empty_pack_list_names_the_key_and_the_known_packs(string packs, string fragment)
    {
        var errors = Validate(new NodeOptions { Packs = packs });

        Assert.Contains(errors, message => message.Contains(fragment, StringComparison.Ordinal) && message.Contains("Known packs: conformance, core, data, files, http, stdio, transactions.", StringComparison.Ordinal));
    }

    [Fact]
    public void A_ttl_not_longer_than_the_interval_is_rejected()
    {
        var errors = Validate(new NodeOptions { HeartbeatInterval = TimeSpan.FromSeconds(5), HeartbeatTtl = TimeSpan.FromSeconds(5) });

        Assert.Contains(errors, message => message.Contains("Node:HeartbeatTtl", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("slash/id")]
    public void An_id_that_is_unsafe_in_a_redis_key_is_rejected(string id) =>
        Assert.Contains(Validate(new NodeOptions { Id = id }), message => message.Contains("Node:Id", StringComparison.Ordinal));

    [Fact]
    public void A_relative_public_url_is_rejected() =>
        Assert.Contains(Validate(new NodeOptions { PublicUrl = new Uri("/mcp", UriKind.Relative) }), message => message.Contains("Node:PublicUrl", StringComparison.Ordinal));

    [Fact]
    public void Concurrency_must_be_positive() =>
        Assert.Contains(Validate(new NodeOptions { MaxConcurrentCalls = 0 }), message => message.Contains("Node:MaxConcurrentCalls", StringComparison.Ordinal));

    private static List<string> Validate(NodeOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return [.. results.Select(result => result.ErrorMessage ?? string.Empty)];
    }
}
