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
        var found = method is null ? default : CheckParams(parameters, method);
        return new JsonRpcSummary(method, id, IsRequest: method is not null && hasId, found.Progress, found.Problem, found.Target, found.MetaVersion, found.TraceState);
    }

    /// <summary>
    /// What is wrong with the params of a <paramref name="method"/> call, whether they carry <c>_meta.progressToken</c>,
    /// the string the method is about (<c>name</c> or <c>uri</c>), the version in <c>_meta</c>, if any, and whether
    /// <c>_meta</c> carries a <c>tracestate</c>.
    /// </summary>
    private static (string? Problem, bool Progress, string? Target, string? MetaVersion, bool TraceState) CheckParams(ReadOnlySpan<byte> parameters, string method)
    {
        var key = method switch
        {
            RequestMethods.ToolsCall or RequestMethods.PromptsGet => "name",
            RequestMethods.ResourcesRead => "uri",
            _ => null,
        };
        var (keyKind, argumentsKind) = (JsonTokenType.None, JsonTokenType.None);
        var progress = false;
        string? target = null;
        string? metaVersion = null;
        var traceState = false;
        if (!parameters.IsEmpty)
        {
            var reader = new Utf8JsonReader(parameters, new JsonReaderOptions { MaxDepth = JsonRpcEnvelope.MaxDepth + 1 });
            reader.Read();
            if (reader.TokenType is not JsonTokenType.StartObject and not JsonTokenType.Null)
            {
                return ($"'params' must be an object, not {KindOf(reader.TokenType)}", false, null, null, false);
            }

            // The members this reads are compared in place and remembered as bits; only other names are made into
            // strings, to find a name given twice.
            var seen = 0;
            HashSet<string>? others = null;
            var members = 0;
            var twice = false;
            var isObject = reader.TokenType == JsonTokenType.StartObject;
            while (isObject && reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                members++;
                var (bit, name) = reader.ValueTextEquals("name"u8) ? (1, "name")
                    : reader.ValueTextEquals("uri"u8) ? (2, "uri")
                    : reader.ValueTextEquals("arguments"u8) ? (4, "arguments")
                    : reader.ValueTextEquals("_meta"u8) ? (8, "_meta")
                    : (0, reader.GetString()!);
                twice |= bit != 0 ? (seen & bit) != 0 : !(others ??= new HashSet<string>(StringComparer.Ordinal)).Add(name);
                seen |= bit;
                reader.Read();
                if (name == key && keyKind == JsonTokenType.None)
                {
                    keyKind = reader.TokenType;
                    target = keyKind == JsonTokenType.String ? StringOrNull(ref reader) : null;
                }
                else if (name == "arguments" && argumentsKind == JsonTokenType.None)
                {
                    argumentsKind = reader.TokenType;
                }
                else if (name == "_meta" && reader.TokenType == JsonTokenType.StartObject)
                {
                    var (hasToken, version, hasTraceState) = ReadMeta(ref reader);
                    progress |= hasToken;
                    metaVersion ??= version;
                    traceState |= hasTraceState;
                    continue;
                }

                reader.Skip();
            }

            if (twice)
            {
                return ("params has a member given more than once", progress, null, null, false);
            }

            if (members > MaxParamsMembers)
            {
                return ($"params has {members} members; at most {MaxParamsMembers} are accepted", progress, null, null, false);
            }
        }

        if (key is not null && keyKind is JsonTokenType.None or JsonTokenType.Null)
        {
            return ($"params.{key} is required (a string)", progress, null, null, false);
        }

        if (key is not null && keyKind != JsonTokenType.String)
        {
            return ($"params.{key} must be a string, not {KindOf(keyKind)}", progress, null, null, false);
        }

        return key == "name" && argumentsKind is not JsonTokenType.None and not JsonTokenType.Null and not JsonTokenType.StartObject
            ? ($"params.arguments must be an object of named arguments, not {KindOf(argumentsKind)}", progress, null, null, false)
            : (null, progress, target, metaVersion, traceState);
    }

    /// <summary>
    /// Whether the <c>_meta</c> object the reader starts has a <c>progressToken</c>, the protocol version it
    /// carries (the first, when a string), and whether it has a <c>tracestate</c>; leaves the reader at its end.
    /// </summary>
    private static (bool Progress, string? Version, bool TraceState) ReadMeta(ref Utf8JsonReader reader)
    {
        var progress = false;
        var traceState = false;
        string? version = null;
        var versionSeen = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            progress |= reader.ValueTextEquals("progressToken"u8);
            traceState |= reader.ValueTextEquals("tracestate"u8);
            var isVersion = !versionSeen && reader.ValueTextEquals(McpProtocol.ProtocolVersionMetaKey);
            reader.Read();
            if (isVersion)
            {
                versionSeen = true;
                version = reader.TokenType == JsonTokenType.String ? StringOrNull(ref reader) : null;
            }

            reader.Skip();
        }

        return (progress, version, traceState);
    }

    /// <summary>The string the reader is at, or <see langword="null"/> when it does not decode (an unpaired surrogate escaped, say).</summary>
    private static string? StringOrNull(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
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
/// responses), whether it is a request, whether it asks for progress, and what is wrong with its params; when
/// nothing is, the string the method is about (<c>params.name</c> of a tool call or prompt, <c>params.uri</c> of a
/// read), the protocol version in <c>params._meta</c>, if it carries one, and whether <c>params._meta</c> carries a
/// <c>tracestate</c>.
/// </summary>
public readonly record struct JsonRpcSummary(
    string? Method, RequestId Id, bool IsRequest, bool HasProgressToken, string? ParamsProblem, string? Target = null, string? MetaVersion = null, bool HasTraceState = false);
