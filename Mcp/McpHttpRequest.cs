using System.Buffers;
using System.Text;
using System.Text.Json;
using ModelContextProtocol.Protocol;

namespace McpAspire.Mcp;

/// <summary>
/// A POST to <c>/mcp</c> that passed validation: its parsed JSON-RPC message, the raw body (so a
/// gateway can forward the exact bytes) and the protocol version it speaks. Dispose it to return
/// the body's pooled buffer. One read by <see cref="McpHttpRequestReader.ReadUnparsedAsync"/> has
/// passed the header and size checks only, until <see cref="McpHttpRequestReader.ParseAsync"/>.
/// </summary>
public sealed class McpHttpRequest : IDisposable
{
    private static readonly string[] TraceParentPath = ["params", "_meta", "traceparent"];

    private byte[]? _buffer;
    private JsonRpcMessage? _message;

    // Where params._meta.traceparent sits, once the body has been scanned for it. Rewriting it keeps its length.
    private (int Start, int Length)? _traceParent;
    private bool _traceParentScanned;

    internal McpHttpRequest(byte[] buffer, int length, string? declaredVersion)
    {
        _buffer = buffer;
        BodyLength = length;
        DeclaredVersion = declaredVersion;
    }

    /// <summary>The parsed message.</summary>
    /// <exception cref="InvalidOperationException">The body has not been parsed yet.</exception>
    public JsonRpcMessage Message => _message
        ?? throw new InvalidOperationException("The request has not been parsed; call McpHttpRequestReader.ParseAsync first.");

    /// <summary>
    /// What the checks read from the body (method, id, progress token) without deserializing it; set once the
    /// body has passed them.
    /// </summary>
    public JsonRpcSummary Summary { get; private set; }

    /// <summary>Whether the body has passed the checks, so <see cref="Summary"/> is there.</summary>
    public bool IsChecked { get; private set; }

    /// <summary>Whether the body has been parsed and validated, so <see cref="Message"/> is there.</summary>
    public bool IsParsed => _message is not null;

    /// <summary>The protocol version from the header, or <see cref="McpProtocol.DefaultVersion"/>.</summary>
    public string ProtocolVersion => DeclaredVersion ?? McpProtocol.DefaultVersion;

    /// <summary>The version the <c>MCP-Protocol-Version</c> header names, or <see langword="null"/> when it is absent.</summary>
    public string? DeclaredVersion { get; }

    /// <summary>The body's length in bytes.</summary>
    public int BodyLength { get; }

    /// <summary>The body exactly as received. Valid until the request is disposed.</summary>
    public ReadOnlyMemory<byte> Body =>
        _buffer is null ? throw new ObjectDisposedException(nameof(McpHttpRequest)) : _buffer.AsMemory(0, BodyLength);

    /// <summary>
    /// A read-only stream over <see cref="Body"/>, so a server behind a gate can read the body the gate already
    /// read. Valid until the request is disposed.
    /// </summary>
    public Stream OpenBody() =>
        new MemoryStream(_buffer ?? throw new ObjectDisposedException(nameof(McpHttpRequest)), 0, BodyLength, writable: false);

    /// <summary>
    /// The value of <c>params._meta.traceparent</c>, read from the raw body without parsing it, or <see langword="null"/>
    /// when the body has none (or is not JSON).
    /// </summary>
    public string? MetaTraceParent
    {
        get
        {
            var body = Body.Span;
            return TraceParentRange is { } range ? Encoding.UTF8.GetString(body.Slice(range.Start, range.Length)) : null;
        }
    }

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
        if (TraceParentRange is not { } range || range.Length != traceparent.Length || !Ascii.IsValid(traceparent))
        {
            return false;
        }

        Encoding.ASCII.GetBytes(traceparent, body.Slice(range.Start, range.Length));
        return true;
    }

    /// <summary>Where <c>params._meta.traceparent</c>'s value sits in the body; the body is scanned for it once.</summary>
    private (int Start, int Length)? TraceParentRange
    {
        get
        {
            if (!_traceParentScanned)
            {
                _traceParent = FindTraceParent(Body.Span);
                _traceParentScanned = true;
            }

            return _traceParent;
        }
    }

    /// <summary>Takes the message the reader parsed and validated.</summary>
    internal void Parsed(JsonRpcMessage message) => _message = message;

    /// <summary>Takes what the reader's checks read from the body.</summary>
    internal void Checked(JsonRpcSummary summary) => (Summary, IsChecked) = (summary, true);

    /// <summary>
    /// Where the unescaped string value of <c>params._meta.traceparent</c> sits in the body. A body that is not
    /// JSON (not yet validated) has none.
    /// </summary>
    private static (int Start, int Length)? FindTraceParent(ReadOnlySpan<byte> body)
    {
        try
        {
            return ScanForTraceParent(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static (int Start, int Length)? ScanForTraceParent(ReadOnlySpan<byte> body)
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
