using System.Buffers;
using System.Text;
using System.Text.Json;
using ModelContextProtocol.Protocol;

namespace McpAspire.ServiceDefaults.Mcp;

/// <summary>
/// A POST to <c>/mcp</c> that passed validation: its parsed JSON-RPC message, the raw body (so a
/// gateway can forward the exact bytes) and the protocol version it speaks. Dispose it to return
/// the body's pooled buffer.
/// </summary>
public sealed class McpHttpRequest : IDisposable
{
    private static readonly string[] TraceParentPath = ["params", "_meta", "traceparent"];

    private byte[]? _buffer;

    internal McpHttpRequest(JsonRpcMessage message, byte[] buffer, int length, string protocolVersion)
    {
        Message = message;
        _buffer = buffer;
        BodyLength = length;
        ProtocolVersion = protocolVersion;
    }

    /// <summary>The parsed message.</summary>
    public JsonRpcMessage Message { get; }

    /// <summary>The protocol version from the header, or <see cref="McpProtocol.DefaultVersion"/>.</summary>
    public string ProtocolVersion { get; }

    /// <summary>The body's length in bytes.</summary>
    public int BodyLength { get; }

    /// <summary>The body exactly as received. Valid until the request is disposed.</summary>
    public ReadOnlyMemory<byte> Body =>
        _buffer is null ? throw new ObjectDisposedException(nameof(McpHttpRequest)) : _buffer.AsMemory(0, BodyLength);

    /// <summary>The method, for requests and notifications; <see langword="null"/> for responses.</summary>
    public string? Method => McpParams.Of(Message).Method;

    /// <summary>
    /// Replaces the value of <c>params._meta.traceparent</c> in <see cref="Body"/>, in place, so a
    /// forwarded request carries the forwarder's span as its parent. Only a value of the same length
    /// (every version-00 traceparent) written without escapes is replaced; the rest of the body keeps
    /// its exact bytes.
    /// </summary>
    /// <returns>Whether the body had such a value and it was replaced.</returns>
    public bool TryReplaceTraceParent(string traceparent)
    {
        ArgumentNullException.ThrowIfNull(traceparent);
        var buffer = _buffer ?? throw new ObjectDisposedException(nameof(McpHttpRequest));
        var body = buffer.AsSpan(0, BodyLength);
        if (FindTraceParent(body) is not { } range || range.Length != traceparent.Length || !Ascii.IsValid(traceparent))
        {
            return false;
        }

        Encoding.ASCII.GetBytes(traceparent, body.Slice(range.Start, range.Length));
        return true;
    }

    /// <summary>Where the unescaped string value of <c>params._meta.traceparent</c> sits in the body.</summary>
    private static (int Start, int Length)? FindTraceParent(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        var level = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var onPath = reader.ValueTextEquals(TraceParentPath[level]);
            reader.Read();
            if (!onPath)
            {
                reader.Skip();
                continue;
            }

            if (level == TraceParentPath.Length - 1)
            {
                return reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped
                    ? ((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length)
                    : null;
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            level++;
        }

        return null;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
