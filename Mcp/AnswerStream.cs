using Microsoft.AspNetCore.Http;

namespace McpAspire.Mcp;

/// <summary>
/// Takes the place of the response body while the SDK answers one POST, and holds the answer until it is
/// complete, so it goes out in one send with a <c>Content-Length</c> rather than a flush per event and a
/// final chunk. Past <see cref="MaxHeldBytes"/> it streams what it has and everything after, so a large
/// answer costs no more memory.
/// </summary>
internal sealed class AnswerStream(HttpResponse response, Stream target) : Stream
{
    /// <summary>The most bytes held back before the answer is streamed instead.</summary>
    public const int MaxHeldBytes = 64 * 1024;

    private MemoryStream? _held = new();

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Sends what is still held, whole, with its length.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _held, null) is { } held)
        {
            using (held)
            {
                if (held.Length > 0 && !response.HasStarted)
                {
                    response.ContentLength = held.Length;
                    await target.WriteAsync(held.GetBuffer().AsMemory(0, (int)held.Length), cancellationToken);
                }
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
                await target.WriteAsync(held.GetBuffer().AsMemory(0, (int)held.Length), cancellationToken);
            }
        }

        await target.WriteAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        _held is null ? target.FlushAsync(cancellationToken) : Task.CompletedTask;

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
}
