using System.Buffers;
using System.Buffers.Text;

namespace McpAspire.ServiceDefaults.Redis;

/// <summary>
/// Parses RESP2 replies from a byte sequence that may end anywhere, including in the middle of a frame.
/// A reply is consumed only when it is complete, so the caller can simply wait for more bytes.
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
        var reader = new SequenceReader<byte>(buffer);
        if (!TryParseValue(ref reader, 0, out value))
        {
            return false;
        }

        buffer = buffer.Slice(reader.Position);
        return true;
    }

    private static bool TryParseValue(ref SequenceReader<byte> reader, int depth, out RespValue? value)
    {
        value = null;
        if (!reader.TryRead(out var prefix) || !TryReadLine(ref reader, out var line))
        {
            return false;
        }

        switch (prefix)
        {
            case (byte)'+':
                value = RespValue.SimpleString(line.ToArray());
                return true;
            case (byte)'-':
                value = RespValue.Error(line.ToArray());
                return true;
            case (byte)':':
                value = RespValue.FromInteger(ParseInteger(line));
                return true;
            case (byte)'$':
                return TryParseBulk(ref reader, ParseInteger(line), out value);
            case (byte)'*':
                return TryParseArray(ref reader, ParseInteger(line), depth, out value);
            default:
                throw new RedisProtocolException($"Unexpected RESP type marker 0x{prefix:X2}.");
        }
    }

    private static bool TryParseBulk(ref SequenceReader<byte> reader, long length, out RespValue? value)
    {
        value = null;
        if (length == -1)
        {
            value = RespValue.NullBulk;
            return true;
        }

        if (length is < 0 or > MaxBulkLength)
        {
            throw new RedisProtocolException($"Invalid bulk string length {length}.");
        }

        if (reader.Remaining < length + 2)
        {
            return false;
        }

        var bytes = new byte[length];
        reader.TryCopyTo(bytes);
        reader.Advance(length);
        if (!reader.IsNext("\r\n"u8, advancePast: true))
        {
            throw new RedisProtocolException("A bulk string is not terminated by CRLF.");
        }

        value = RespValue.Bulk(bytes);
        return true;
    }

    private static bool TryParseArray(ref SequenceReader<byte> reader, long count, int depth, out RespValue? value)
    {
        value = null;
        if (count == -1)
        {
            value = RespValue.NullArray;
            return true;
        }

        if (count < 0 || count > MaxBulkLength)
        {
            throw new RedisProtocolException($"Invalid array length {count}.");
        }

        if (depth >= MaxDepth)
        {
            throw new RedisProtocolException($"Arrays are nested deeper than {MaxDepth} levels.");
        }

        // Each element needs at least 3 bytes, so a count the buffer cannot hold yet is not allocated.
        if (reader.Remaining < count * 3)
        {
            return false;
        }

        var items = new RespValue[count];
        for (var i = 0; i < items.Length; i++)
        {
            if (!TryParseValue(ref reader, depth + 1, out var item))
            {
                return false;
            }

            items[i] = item!;
        }

        value = RespValue.FromArray(items);
        return true;
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
