using System.Buffers;
using ModelContextProtocol.Protocol;

namespace McpAspire.ServiceDefaults.Mcp;

/// <summary>
/// A POST to <c>/mcp</c> that passed validation: its parsed JSON-RPC message, the raw body (so a
/// gateway can forward the exact bytes) and the protocol version it speaks. Dispose it to return
/// the body's pooled buffer.
/// </summary>
public sealed class McpHttpRequest : IDisposable
{
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
    public string? Method => Message switch
    {
        JsonRpcRequest request => request.Method,
        JsonRpcNotification notification => notification.Method,
        _ => null,
    };

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
