using System.Text.Json;
using ModelContextProtocol.Protocol;

namespace McpAspire.Mcp;

/// <summary>
/// Reads what a server checks and a gate needs from a body that passed <see cref="JsonRpcEnvelope.Check"/>, with
/// a reader and no DOM: the method, the id, whether the request asks for progress, and whether its params have
/// the shape every server relies on before a handler sees them (an object of at most
/// <see cref="MaxParamsMembers"/> members, none given twice; <c>name</c> or <c>uri</c> a string and
/// <c>arguments</c> an object where the method needs them).
/// </summary>
internal static class JsonRpcScan
{
    /// <summary>The most members a request's params object may have.</summary>
    public const int MaxParamsMembers = 1024;

    public static JsonRpcSummary Scan(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = JsonRpcEnvelope.MaxDepth + 1 });
        reader.Read();
        string? method = null;
        RequestId id = default;
        var hasId = false;
        var (paramsStart, paramsEnd) = (-1, -1);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var member = reader.ValueTextEquals("method"u8) ? 1 : reader.ValueTextEquals("id"u8) ? 2 : reader.ValueTextEquals("params"u8) ? 3 : 0;
            reader.Read();
            switch (member)
            {
                case 1:
                    method = reader.GetString();
                    break;
                case 2:
                    hasId = true;
                    id = reader.TokenType == JsonTokenType.String ? new RequestId(reader.GetString()!) : new RequestId(reader.GetInt64());
                    break;
                case 3:
                    paramsStart = (int)reader.TokenStartIndex;
                    reader.Skip();
                    paramsEnd = (int)reader.BytesConsumed;
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        var parameters = paramsStart < 0 ? default : body[paramsStart..paramsEnd];
        var (problem, progress) = method is null ? (null, false) : CheckParams(parameters, method);
        return new JsonRpcSummary(method, id, IsRequest: method is not null && hasId, progress, problem);
    }

    /// <summary>What is wrong with the params of a <paramref name="method"/> call, and whether they carry <c>_meta.progressToken</c>.</summary>
    private static (string? Problem, bool Progress) CheckParams(ReadOnlySpan<byte> parameters, string method)
    {
        var key = method switch
        {
            RequestMethods.ToolsCall or RequestMethods.PromptsGet => "name",
            RequestMethods.ResourcesRead => "uri",
            _ => null,
        };
        var (keyKind, argumentsKind) = (JsonTokenType.None, JsonTokenType.None);
        var progress = false;
        if (!parameters.IsEmpty)
        {
            var reader = new Utf8JsonReader(parameters, new JsonReaderOptions { MaxDepth = JsonRpcEnvelope.MaxDepth + 1 });
            reader.Read();
            if (reader.TokenType is not JsonTokenType.StartObject and not JsonTokenType.Null)
            {
                return ($"'params' must be an object, not {KindOf(reader.TokenType)}", false);
            }

            var names = new HashSet<string>(StringComparer.Ordinal);
            var twice = false;
            var isObject = reader.TokenType == JsonTokenType.StartObject;
            while (isObject && reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString()!;
                twice |= !names.Add(name);
                reader.Read();
                if (name == key && keyKind == JsonTokenType.None)
                {
                    keyKind = reader.TokenType;
                }
                else if (name == "arguments" && argumentsKind == JsonTokenType.None)
                {
                    argumentsKind = reader.TokenType;
                }
                else if (name == "_meta" && reader.TokenType == JsonTokenType.StartObject)
                {
                    progress |= HasMember(ref reader, "progressToken"u8);
                    continue;
                }

                reader.Skip();
            }

            if (twice)
            {
                return ("params has a member given more than once", progress);
            }

            if (names.Count > MaxParamsMembers)
            {
                return ($"params has {names.Count} members; at most {MaxParamsMembers} are accepted", progress);
            }
        }

        if (key is not null && keyKind is JsonTokenType.None or JsonTokenType.Null)
        {
            return ($"params.{key} is required (a string)", progress);
        }

        if (key is not null && keyKind != JsonTokenType.String)
        {
            return ($"params.{key} must be a string, not {KindOf(keyKind)}", progress);
        }

        return key == "name" && argumentsKind is not JsonTokenType.None and not JsonTokenType.Null and not JsonTokenType.StartObject
            ? ($"params.arguments must be an object of named arguments, not {KindOf(argumentsKind)}", progress)
            : (null, progress);
    }

    /// <summary>Whether the object the reader starts has a member named <paramref name="name"/>; leaves the reader at its end.</summary>
    private static bool HasMember(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        var found = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            found |= reader.ValueTextEquals(name);
            reader.Read();
            reader.Skip();
        }

        return found;
    }

    private static string KindOf(JsonTokenType token) => token switch
    {
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        _ => "an object",
    };
}

/// <summary>
/// What <see cref="JsonRpcScan"/> read: the method (requests and notifications), the id (requests and
/// responses), whether it is a request, whether it asks for progress, and what is wrong with its params.
/// </summary>
public readonly record struct JsonRpcSummary(string? Method, RequestId Id, bool IsRequest, bool HasProgressToken, string? ParamsProblem);
