using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace McpAspire.Mcp;

/// <summary>
/// Where the SDK's transport writes the answer to one POST. Holding, it keeps the answer until it is
/// complete, so it goes out in one send with a <c>Content-Length</c> rather than a flush per event and a
/// final chunk; past <see cref="MaxHeldBytes"/> it streams what it has and everything after, so a large
/// answer costs no more memory. Not holding, each event goes out as it is written. Either way, the
/// first event can still set the status: from 2026-07-28, an unknown method is 404, not 200.
/// </summary>
internal sealed class AnswerStream(HttpResponse response, bool hold, bool unknownMethodIsNotFound) : Stream
{
    /// <summary>The most bytes held back before the answer is streamed instead.</summary>
    public const int MaxHeldBytes = 64 * 1024;

    private MemoryStream? _held = hold ? new() : null;
    private bool _sent;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Sends what is still held, whole, with its length.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _held, null) is { Length: > 0 } held)
        {
            using (held)
            {
                response.ContentLength = held.Length;
                await SendAsync(held.GetBuffer().AsMemory(0, (int)held.Length), cancellationToken);
            }
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_held is { } held)
        {
            if (held.Length + buffer.Length <= MaxHeldBytes)
            {
                held.Write(buffer.Span);
                return;
            }

            _held = null;
            using (held)
            {
                await SendAsync(held.GetBuffer().AsMemory(0, (int)held.Length), cancellationToken);
            }
        }

        await SendAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        _held is null ? response.Body.FlushAsync(cancellationToken) : Task.CompletedTask;

    public override void Flush() => throw new NotSupportedException("Only asynchronous writes are supported.");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Only asynchronous writes are supported.");

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Interlocked.Exchange(ref _held, null)?.Dispose();
        }

        base.Dispose(disposing);
    }

    private ValueTask SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        if (!_sent)
        {
            _sent = true;
            if (unknownMethodIsNotFound && !response.HasStarted && IsMethodNotFound(bytes.Span))
            {
                response.StatusCode = StatusCodes.Status404NotFound;
            }
        }

        return response.Body.WriteAsync(bytes, cancellationToken);
    }

    /// <summary>
    /// Whether the first event is a JSON-RPC error with code -32601. The transport writes an event in one
    /// write; were one ever split, the check sees no whole message and leaves the status at 200.
    /// </summary>
    private static bool IsMethodNotFound(ReadOnlySpan<byte> events)
    {
        var start = events.IndexOf("data: "u8);
        if (start < 0)
        {
            return false;
        }

        var data = events[(start + 6)..];
        var end = data.IndexOf((byte)'\n');
        if (end >= 0)
        {
            data = data[..end];
        }

        try
        {
            var reader = new Utf8JsonReader(data);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isError = reader.ValueTextEquals("error"u8);
                reader.Read();
                if (!isError || reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isCode = reader.ValueTextEquals("code"u8);
                    reader.Read();
                    if (isCode)
                    {
                        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var code) && code == McpErrorCodes.MethodNotFound;
                    }

                    reader.Skip();
                }

                return false;
            }
        }
        catch (JsonException)
        {
            // Not one whole message.
        }

        return false;
    }
}
