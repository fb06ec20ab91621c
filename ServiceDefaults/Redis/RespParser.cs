using System.Buffers;
using System.Buffers.Text;

namespace McpAspire.ServiceDefaults.Redis;

/// <summary>
/// Parses RESP2 replies from a byte sequence that may end anywhere, including in the middle of a frame.
/// A reply is consumed only when it is complete, so the caller can simply wait for more bytes. A
/// non-allocating scan checks completeness first, so a large reply that arrives over many reads is
/// materialized once, not once per read.
/// </summary>
public static class RespParser
{
    /// <summary>Replies larger than this are rejected rather than buffered without bound.</summary>
    public const int MaxBulkLength = 512 * 1024 * 1024;

    /// <summary>Arrays nested deeper than this are rejected, so a hostile server cannot exhaust the stack.</summary>
    public const int MaxDepth = 32;

    /// <summary>
    /// Tries to parse one complete reply from the start of <paramref name="buffer"/>.
    /// </summary>
    /// <param name="buffer">Received bytes; on success, advanced past the reply.</param>
    /// <param name="value">The reply, when one was complete.</param>
    /// <returns><see langword="true"/> if a complete reply was parsed; <see langword="false"/> if more bytes are needed.</returns>
    /// <exception cref="RedisProtocolException">The bytes are not valid RESP2.</exception>
    public static bool TryParse(ref ReadOnlySequence<byte> buffer, out RespValue? value)
    {
        value = null;
        var scan = new SequenceReader<byte>(buffer);
        if (!TrySkipValue(ref scan, 0))
        {
            return false;
        }

        var reader = new SequenceReader<byte>(buffer);
        value = ParseValue(ref reader);
        buffer = buffer.Slice(reader.Position);
        return true;
    }

    /// <summary>Checks that one whole, valid reply is buffered, without allocating.</summary>
    private static bool TrySkipValue(ref SequenceReader<byte> reader, int depth)
    {
        if (!reader.TryRead(out var prefix) || !TryReadLine(ref reader, out var line))
        {
            return false;
        }

        switch (prefix)
        {
            case (byte)'+' or (byte)'-':
                return true;
            case (byte)':':
                ParseInteger(line);
                return true;
            case (byte)'$':
                var length = BulkLength(line);
                if (length == -1)
                {
                    return true;
                }

                if (reader.Remaining < length + 2)
                {
                    return false;
                }

                reader.Advance(length);
                return reader.IsNext("\r\n"u8, advancePast: true)
                    ? true
                    : throw new RedisProtocolException("A bulk string is not terminated by CRLF.");
            case (byte)'*':
                var count = ArrayCount(line, depth);
                // Each element needs at least 3 bytes, so a count the buffer cannot hold yet fails early.
                if (reader.Remaining < count * 3)
                {
                    return false;
                }

                for (var i = 0; i < count; i++)
                {
                    if (!TrySkipValue(ref reader, depth + 1))
                    {
                        return false;
                    }
                }

                return true;
            default:
                throw new RedisProtocolException($"Unexpected RESP type marker 0x{prefix:X2}.");
        }
    }

    private static long BulkLength(ReadOnlySequence<byte> line)
    {
        var length = ParseInteger(line);
        return length is -1 or (>= 0 and <= MaxBulkLength) ? length : throw new RedisProtocolException($"Invalid bulk string length {length}.");
    }

    private static long ArrayCount(ReadOnlySequence<byte> line, int depth)
    {
        var count = ParseInteger(line);
        if (count == -1)
        {
            return 0;
        }

        if (count < 0 || count > MaxBulkLength)
        {
            throw new RedisProtocolException($"Invalid array length {count}.");
        }

        return depth >= MaxDepth ? throw new RedisProtocolException($"Arrays are nested deeper than {MaxDepth} levels.") : count;
    }

    /// <summary>Materializes a reply that <see cref="TrySkipValue"/> has found complete and valid.</summary>
    private static RespValue ParseValue(ref SequenceReader<byte> reader)
    {
        reader.TryRead(out var prefix);
        TryReadLine(ref reader, out var line);
        switch (prefix)
        {
            case (byte)'+':
                return RespValue.SimpleString(line.ToArray());
            case (byte)'-':
                return RespValue.Error(line.ToArray());
            case (byte)':':
                return RespValue.FromInteger(ParseInteger(line));
            case (byte)'$':
                var length = ParseInteger(line);
                if (length == -1)
                {
                    return RespValue.NullBulk;
                }

                var bytes = new byte[length];
                reader.TryCopyTo(bytes);
                reader.Advance(length + 2);
                return RespValue.Bulk(bytes);
            default:
                var count = ParseInteger(line);
                if (count == -1)
                {
                    return RespValue.NullArray;
                }

                var items = new RespValue[count];
                for (var i = 0; i < items.Length; i++)
                {
                    items[i] = ParseValue(ref reader);
                }

                return RespValue.FromArray(items);
        }
    }

    private static bool TryReadLine(ref SequenceReader<byte> reader, out ReadOnlySequence<byte> line)
    {
        if (!reader.TryReadTo(out line, (byte)'\r', advancePastDelimiter: true))
        {
            return false;
        }

        if (!reader.TryRead(out var lf))
        {
            return false;
        }

        return lf == (byte)'\n' ? true : throw new RedisProtocolException("A RESP line is not terminated by CRLF.");
    }

    private static long ParseInteger(ReadOnlySequence<byte> line)
    {
        Span<byte> scratch = stackalloc byte[24];
        if (line.Length is 0 or > 24)
        {
            throw new RedisProtocolException("A RESP integer is empty or too long.");
        }

        line.CopyTo(scratch);
        var digits = scratch[..(int)line.Length];
        return Utf8Parser.TryParse(digits, out long number, out var consumed) && consumed == digits.Length
            ? number
            : throw new RedisProtocolException("A RESP integer is not a number.");
    }
}
