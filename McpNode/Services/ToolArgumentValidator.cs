using System.Globalization;
using System.Text.Json;

namespace McpAspire.McpNode.Services;

/// <summary>
/// Checks a call's arguments against the tool's input schema before the tool runs, so a bad call gets
/// a clear answer naming the argument and the rule instead of a binding failure inside the tool. It
/// covers the JSON Schema the SDK generates: <c>type</c> (also as a list), <c>required</c>,
/// <c>properties</c>, <c>items</c>, <c>enum</c>, <c>minimum</c>/<c>maximum</c> (and exclusive),
/// <c>minLength</c>/<c>maxLength</c> and <c>minItems</c>/<c>maxItems</c>, plus <c>additionalProperties: false</c>
/// and local <c>$ref</c>s (<c>#/$defs/...</c>) from hand-written JSON Schema 2020-12. Unknown keywords are ignored.
/// </summary>
public static class ToolArgumentValidator
{
    /// <summary>At most this many violations are reported; a huge bad array must not make a huge answer.</summary>
    public const int MaxViolations = 20;

    /// <summary>At most this many <c>$ref</c>s are followed in a row for one value; a schema that refers to itself must not loop.</summary>
    public const int MaxReferenceHops = 16;

    /// <summary>Each violation, as "'path' rule"; empty when the arguments fit the schema.</summary>
    public static IReadOnlyList<string> Validate(JsonElement schema, IDictionary<string, JsonElement>? arguments)
    {
        var violations = new List<string>();
        ValidateInto(schema, schema, arguments, violations);
        return violations.Count > MaxViolations ? [.. violations.Take(MaxViolations), $"and {violations.Count - MaxViolations} more"] : violations;
    }

    /// <summary>Checks an object's members against <paramref name="schema"/>, and against what its <c>$ref</c> points to unless <paramref name="followReference"/> is off.</summary>
    private static void ValidateInto(JsonElement root, JsonElement schema, IDictionary<string, JsonElement>? arguments, List<string> violations, int hops = 0, bool followReference = true)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (followReference && hops < MaxReferenceHops && Target(root, schema) is { } target)
        {
            ValidateInto(root, target, arguments, violations, hops + 1);
        }

        if (schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
        {
            foreach (var name in required.EnumerateArray().Select(item => item.GetString()).OfType<string>())
            {
                if (arguments is null || !arguments.ContainsKey(name))
                {
                    violations.Add($"'{name}' is required");
                }
            }
        }

        var hasProperties = schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object;
        var closed = schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.False;
        if (arguments is null || (!hasProperties && !closed))
        {
            return;
        }

        foreach (var (name, value) in arguments)
        {
            if (hasProperties && properties.TryGetProperty(name, out var propertySchema))
            {
                Check(root, propertySchema, value, name, violations);
            }
            else if (closed)
            {
                violations.Add($"'{name}' is not a known argument (additionalProperties is false)");
            }
        }
    }

    private static void Check(JsonElement root, JsonElement schema, JsonElement value, string path, List<string> violations, int hops = 0)
    {
        if (schema.ValueKind != JsonValueKind.Object || violations.Count > MaxViolations)
        {
            return;
        }

        // A $ref's target applies, and so do the keywords beside it (JSON Schema 2020-12).
        if (hops < MaxReferenceHops && Target(root, schema) is { } target)
        {
            Check(root, target, value, path, violations, hops + 1);
        }

        if (schema.TryGetProperty("type", out var type) && !MatchesType(type, value))
        {
            violations.Add($"'{path}' must be {Describe(type)}, not {KindOf(value)}");
            return;
        }

        if (schema.TryGetProperty("enum", out var allowed) && allowed.ValueKind == JsonValueKind.Array
            && !allowed.EnumerateArray().Any(option => JsonElement.DeepEquals(option, value)))
        {
            violations.Add($"'{path}' must be one of {allowed.GetRawText()}");
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.Number when value.TryGetDouble(out var number) && double.IsFinite(number):
                CheckNumber(schema, number, path, violations);
                break;
            case JsonValueKind.Number:
                violations.Add($"'{path}' is not a representable number");
                break;
            case JsonValueKind.String:
                CheckLength(schema, value.GetString()!.Length, "minLength", "maxLength", "characters", path, violations);
                break;
            case JsonValueKind.Array:
                CheckLength(schema, value.GetArrayLength(), "minItems", "maxItems", "items", path, violations);
                if (schema.TryGetProperty("items", out var items))
                {
                    var index = 0;
                    foreach (var item in value.EnumerateArray())
                    {
                        Check(root, items, item, $"{path}[{index++}]", violations);
                    }
                }

                break;
            case JsonValueKind.Object:
                // Duplicate names are possible in JSON; the last one wins, as when the tool binds them.
                var nested = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
                foreach (var property in value.EnumerateObject())
                {
                    nested[property.Name] = property.Value;
                }

                var inner = new List<string>();
                ValidateInto(root, schema, nested, inner, followReference: false);
                foreach (var violation in inner)
                {
                    // Nested paths read "'parent.child' ...".
                    violations.Add(string.Concat("'", path, ".", violation.AsSpan(1)));
                }

                break;
        }
    }

    /// <summary>What a local <c>$ref</c> (<c>#</c> or <c>#/a/b</c>) of <paramref name="schema"/> points to; <see langword="null"/> for none, a remote one, or one that leads nowhere.</summary>
    private static JsonElement? Target(JsonElement root, JsonElement schema)
    {
        if (!schema.TryGetProperty("$ref", out var reference) || reference.ValueKind != JsonValueKind.String
            || reference.GetString() is not { } pointer || (pointer != "#" && !pointer.StartsWith("#/", StringComparison.Ordinal)))
        {
            return null;
        }

        var target = root;
        foreach (var token in pointer == "#" ? [] : pointer[2..].Split('/'))
        {
            var name = token.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (target.ValueKind != JsonValueKind.Object || !target.TryGetProperty(name, out target))
            {
                return null;
            }
        }

        return target;
    }

    private static void CheckNumber(JsonElement schema, double number, string path, List<string> violations)
    {
        if (schema.TryGetProperty("minimum", out var minimum) && minimum.TryGetDouble(out var min) && number < min)
        {
            violations.Add($"'{path}' must be at least {Format(min)}");
        }

        if (schema.TryGetProperty("maximum", out var maximum) && maximum.TryGetDouble(out var max) && number > max)
        {
            violations.Add($"'{path}' must be at most {Format(max)}");
        }

        if (schema.TryGetProperty("exclusiveMinimum", out var exclusiveMinimum) && exclusiveMinimum.TryGetDouble(out var above) && number <= above)
        {
            violations.Add($"'{path}' must be greater than {Format(above)}");
        }

        if (schema.TryGetProperty("exclusiveMaximum", out var exclusiveMaximum) && exclusiveMaximum.TryGetDouble(out var below) && number >= below)
        {
            violations.Add($"'{path}' must be less than {Format(below)}");
        }
    }

    private static void CheckLength(JsonElement schema, int length, string minKeyword, string maxKeyword, string unit, string path, List<string> violations)
    {
        if (schema.TryGetProperty(minKeyword, out var minimum) && minimum.TryGetInt32(out var min) && length < min)
        {
            violations.Add($"'{path}' must have at least {min} {unit}");
        }

        if (schema.TryGetProperty(maxKeyword, out var maximum) && maximum.TryGetInt32(out var max) && length > max)
        {
            violations.Add($"'{path}' must have at most {max} {unit}");
        }
    }

    private static bool MatchesType(JsonElement type, JsonElement value) => type.ValueKind switch
    {
        JsonValueKind.String => Matches(type.GetString(), value),
        JsonValueKind.Array => type.EnumerateArray().Any(option => Matches(option.GetString(), value)),
        _ => true,
    };

    private static bool Matches(string? type, JsonElement value) => type switch
    {
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && Math.Floor(number) == number && !double.IsInfinity(number),
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "array" => value.ValueKind == JsonValueKind.Array,
        "object" => value.ValueKind == JsonValueKind.Object,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => true,
    };

    private static string Describe(JsonElement type) => type.ValueKind == JsonValueKind.Array
        ? string.Join(" or ", type.EnumerateArray().Select(option => Article(option.GetString())))
        : Article(type.GetString());

    private static string Article(string? type) => type switch
    {
        "integer" or "array" or "object" => $"an {type}",
        "null" => "null",
        _ => $"a {type}",
    };

    private static string KindOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    private static string Format(double number) => number.ToString(CultureInfo.InvariantCulture);
}
