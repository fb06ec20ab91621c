using System.Text.Json;
using McpAspire.McpNode.Services;

namespace McpAspire.UnitTests.Node;

public sealed class ToolArgumentValidatorTests
{
    private const string Schema = """
        {"type":"object","properties":{
          "name":{"type":"string","minLength":2,"maxLength":5},
          "level":{"type":"integer","minimum":1,"maximum":3},
          "ratio":{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":1},
          "mode":{"enum":["fast","safe"]},
          "tags":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":2},
          "flag":{"type":["boolean","null"]}},
         "required":["name"]}
        """;

    private static IReadOnlyList<string> Check(string arguments) => ToolArgumentValidator.Validate(
        JsonDocument.Parse(Schema).RootElement,
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(arguments));

    [Theory]
    [InlineData("""{"name":"ok"}""")]
    [InlineData("""{"name":"okay","level":3,"ratio":0.5,"mode":"safe","tags":["a","b"],"flag":null,"unknown":1}""")]
    [InlineData("""{"name":"ok","level":2.0,"flag":true}""")]
    public void Arguments_that_fit_pass(string arguments) => Assert.Empty(Check(arguments));

    [Theory]
    [InlineData("""{}""", "'name' is required")]
    [InlineData("""{"name":"x"}""", "'name' must have at least 2 characters")]
    [InlineData("""{"name":"toolong"}""", "'name' must have at most 5 characters")]
    [InlineData("""{"name":"ok","level":0}""", "'level' must be at least 1")]
    [InlineData("""{"name":"ok","level":4}""", "'level' must be at most 3")]
    [InlineData("""{"name":"ok","level":1.5}""", "'level' must be an integer, not a number")]
    [InlineData("""{"name":"ok","ratio":0}""", "'ratio' must be greater than 0")]
    [InlineData("""{"name":"ok","ratio":1}""", "'ratio' must be less than 1")]
    [InlineData("""{"name":"ok","mode":"reckless"}""", "'mode' must be one of [\"fast\",\"safe\"]")]
    [InlineData("""{"name":"ok","tags":[]}""", "'tags' must have at least 1 items")]
    [InlineData("""{"name":"ok","tags":["a",3]}""", "'tags[1]' must be a string, not a number")]
    [InlineData("""{"name":"ok","flag":"yes"}""", "'flag' must be a boolean or null, not a string")]
    public void Each_violation_names_the_argument_and_the_rule(string arguments, string violation) =>
        Assert.Contains(violation, Check(arguments));

    [Fact]
    public void Every_violation_is_reported_not_just_the_first() =>
        Assert.Equal(2, Check("""{"level":9}""").Count);

    [Fact]
    public void A_number_too_large_for_a_double_is_a_violation_not_a_crash() =>
        Assert.Contains("'ratio' is not a representable number", Check("""{"name":"ok","ratio":1e400}"""));

    [Fact]
    public void Duplicate_property_names_in_a_nested_object_do_not_crash()
    {
        var schema = JsonDocument.Parse("""{"type":"object","properties":{"t":{"type":"object","properties":{"a":{"type":"string"}}}}}""").RootElement;
        var arguments = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>("""{"t":{"a":1,"a":"x"}}""");

        Assert.Empty(ToolArgumentValidator.Validate(schema, arguments));
    }

    [Fact]
    public void A_huge_array_of_bad_items_gives_a_bounded_answer()
    {
        var items = string.Join(",", Enumerable.Repeat("1", 10_000));

        var violations = Check("""{"name":"ok","tags":[ITEMS]}""".Replace("ITEMS", items, StringComparison.Ordinal));

        Assert.Equal(ToolArgumentValidator.MaxViolations + 1, violations.Count);
        Assert.StartsWith("and ", violations[^1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"name":"Ada","address":{"street":"1 Main St","city":"London"}}""", null)]
    [InlineData("""{"name":"Ada","nick":"A"}""", "'nick' is not a known argument (additionalProperties is false)")]
    [InlineData("""{"address":{"street":12}}""", "'address.street' must be a string, not a number")]
    [InlineData("""{"address":"somewhere"}""", "'address' must be an object, not a string")]
    public void Local_references_and_closed_objects_are_enforced(string arguments, string? violation)
    {
        var schema = JsonDocument.Parse("""
            {"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
             "$defs":{"address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}},
             "properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"}},
             "additionalProperties":false}
            """).RootElement;

        var violations = ToolArgumentValidator.Validate(schema, JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(arguments));

        if (violation is null)
        {
            Assert.Empty(violations);
        }
        else
        {
            Assert.Equal(violation, Assert.Single(violations));
        }
    }

    [Theory]
    [InlineData("""{"$ref":"#"}""")]
    [InlineData("""{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"properties":{"x":{"$ref":"#/$defs/a"}}}""")]
    [InlineData("""{"properties":{"x":{"$ref":"#/$defs/missing"}}}""")]
    [InlineData("""{"properties":{"x":{"$ref":"https://example.com/schema"}}}""")]
    public void Self_referring_missing_and_remote_references_end_without_a_violation(string schema) =>
        Assert.Empty(ToolArgumentValidator.Validate(
            JsonDocument.Parse(schema).RootElement,
            JsonSerializer.Deserialize<Dictionary<string, JsonElement>>("""{"x":1}""")));

    [Fact]
    public void A_recursive_schema_checks_each_level_of_the_value()
    {
        var schema = JsonDocument.Parse("""
            {"$defs":{"node":{"type":"object","properties":{"name":{"type":"string"},"child":{"$ref":"#/$defs/node"}}}},
             "properties":{"root":{"$ref":"#/$defs/node"}}}
            """).RootElement;

        var violations = ToolArgumentValidator.Validate(schema, JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(
            """{"root":{"name":"a","child":{"name":"b","child":{"name":3}}}}"""));

        Assert.Equal("'root.child.child.name' must be a string, not a number", Assert.Single(violations));
    }

    [Theory]
    [InlineData("""{"x":"toolong"}""", "'x' must have at most 3 characters")]
    [InlineData("""{"x":5}""", "'x' must be a string, not a number")]
    public void Keywords_beside_a_reference_apply_with_its_target(string arguments, string violation)
    {
        var schema = JsonDocument.Parse("""{"$defs":{"s":{"type":"string"}},"properties":{"x":{"$ref":"#/$defs/s","maxLength":3}}}""").RootElement;

        Assert.Equal(violation, Assert.Single(ToolArgumentValidator.Validate(schema, JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(arguments))));
    }

    [Fact]
    public void A_closed_schema_without_properties_refuses_every_argument()
    {
        var schema = JsonDocument.Parse("""{"type":"object","additionalProperties":false}""").RootElement;

        Assert.Equal(
            ["'a' is not a known argument (additionalProperties is false)"],
            ToolArgumentValidator.Validate(schema, JsonSerializer.Deserialize<Dictionary<string, JsonElement>>("""{"a":1}""")));
    }

    [Fact]
    public void A_reference_that_is_not_a_string_is_ignored_not_a_crash() =>
        Assert.Empty(ToolArgumentValidator.Validate(
            JsonDocument.Parse("""{"properties":{"x":{"$ref":42}}}""").RootElement,
            JsonSerializer.Deserialize<Dictionary<string, JsonElement>>("""{"x":1}""")));
}
