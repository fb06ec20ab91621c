using System.Text.Json;
using System.Text.Unicode;

namespace McpAspire.Mcp;

/// <summary>
/// Checks that a body is one well-formed JSON-RPC 2.0 message before anything deserializes it: valid
/// UTF-8, valid JSON, at most <see cref="MaxDepth"/> levels deep, an object (not a batch), a
/// <c>jsonrpc</c> of <c>"2.0"</c>, an id that is a string or an integer, a string method, and no member
/// given twice (a gateway and a node must not read different values from one body). One pass, no DOM.
/// </summary>
internal static class JsonRpcEnvelope
{
    /// <summary>The deepest nesting accepted, the same as System.Text.Json's default.</summary>
    public const int MaxDepth = 64;

    [Flags]
    private enum Member
    {
        None = 0,
        JsonRpc = 1,
        Id = 2,
        Method = 4,
        Params = 8,
        Result = 16,
        Error = 32,
    }

    /// <summary>What is wrong with the body, or <see langword="null"/> when it is a well-formed message.</summary>
    public static EnvelopeError? Check(ReadOnlySpan<byte> body)
    {
        if (!Utf8.IsValid(body))
        {
            return EnvelopeError.Parse("Parse error: the body is not valid UTF-8.");
        }

        var seen = Member.None;
        string? problem = null;
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = MaxDepth + 1 });
        try
        {
            if (!reader.Read())
            {
                return EnvelopeError.Parse("Parse error: the body is empty.");
            }

            var first = reader.TokenType;
            while (reader.Read())
            {
                if (reader.CurrentDepth >= MaxDepth)
                {
                    return EnvelopeError.Parse($"Parse error: the JSON nests deeper than {MaxDepth} levels.");
                }

                if (first == JsonTokenType.StartObject && reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var member = MemberOf(ref reader);
                    reader.Read();
                    if (member != Member.None)
                    {
                        problem ??= (seen & member) != 0 ? $"the member '{Name(member)}' appears more than once" : ValueProblem(member, ref reader);
                        seen |= member;
                    }
                }
            }

            if (first == JsonTokenType.StartArray)
            {
                return EnvelopeError.Invalid("Invalid Request: JSON-RPC batches are not supported; send one message per POST.");
            }

            if (first != JsonTokenType.StartObject)
            {
                return EnvelopeError.Invalid("Invalid Request: the body must be a JSON-RPC message object.");
            }
        }
        catch (JsonException ex)
        {
            return EnvelopeError.Parse($"Parse error: the body is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}).");
        }

        problem ??= ShapeProblem(seen);
        return problem is null ? null : EnvelopeError.Invalid($"Invalid Request: {problem}.");
    }

    private static Member MemberOf(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("jsonrpc"u8) ? Member.JsonRpc
        : reader.ValueTextEquals("id"u8) ? Member.Id
        : reader.ValueTextEquals("method"u8) ? Member.Method
        : reader.ValueTextEquals("params"u8) ? Member.Params
        : reader.ValueTextEquals("result"u8) ? Member.Result
        : reader.ValueTextEquals("error"u8) ? Member.Error
        : Member.None;

    private static string Name(Member member) => member.ToString().ToLowerInvariant();

    /// <summary>Checks the value of a member whose type JSON-RPC fixes; the reader is on the value's first token.</summary>
    private static string? ValueProblem(Member member, ref Utf8JsonReader reader) => member switch
    {
        Member.JsonRpc when reader.TokenType != JsonTokenType.String || !reader.ValueTextEquals("2.0"u8) =>
            "'jsonrpc' must be the string \"2.0\"",
        Member.Method when reader.TokenType != JsonTokenType.String => "'method' must be a string",
        Member.Id when !(reader.TokenType == JsonTokenType.String || (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out _))) =>
            "'id' must be a string or an integer that fits in 64 bits (not null, a fraction, a boolean, an object or an array)",
        _ => null,
    };

    private static string? ShapeProblem(Member seen)
    {
        if ((seen & Member.JsonRpc) == 0)
        {
            return "'jsonrpc' is missing; it must be \"2.0\"";
        }

        var hasMethod = (seen & Member.Method) != 0;
        var outcome = seen & (Member.Result | Member.Error);
        if (hasMethod)
        {
            return outcome == Member.None ? null : "a message with a 'method' cannot also carry 'result' or 'error'";
        }

        if ((seen & Member.Id) == 0)
        {
            return "the message has neither 'method' (a request or notification) nor 'id' (a response)";
        }

        return outcome is Member.Result or Member.Error ? null : "a response must carry exactly one of 'result' and 'error'";
    }
}

/// <summary>Why a body is not a JSON-RPC message: a parse error (-32700) or an invalid request (-32600).</summary>
internal readonly record struct EnvelopeError(int Code, string Message)
{
    public static EnvelopeError Parse(string message) => new(McpErrorCodes.ParseError, message);

    public static EnvelopeError Invalid(string message) => new(McpErrorCodes.InvalidRequest, message);
}
