using System.Buffers;
using System.Buffers.Text;

namespace McpAspire.ServiceDefaults.Redis;

/// <summary>Encodes a command as a RESP2 array of bulk strings.</summary>
internal static class RespCommandEncoder
{
    /// <summary>Writes <c>*N\r\n$len\r\narg\r\n...</c> for the arguments.</summary>
    public static void Encode(IBufferWriter<byte> writer, ReadOnlySpan<RedisArgument> arguments)
    {
        WriteHeader(writer, (byte)'*', arguments.Length);
        foreach (var argument in arguments)
        {
            var length = argument.ByteCount;
            WriteHeader(writer, (byte)'$', length);
            var span = writer.GetSpan(length + 2);
            var written = argument.WriteTo(span);
            span[written] = (byte)'\r';
            span[written + 1] = (byte)'\n';
            writer.Advance(written + 2);
        }
    }

    private static void WriteHeader(IBufferWriter<byte> writer, byte marker, int number)
    {
        var span = writer.GetSpan(16);
        span[0] = marker;
        Utf8Formatter.TryFormat(number, span[1..], out var digits);
        span[1 + digits] = (byte)'\r';
        span[2 + digits] = (byte)'\n';
        writer.Advance(digits + 3);
    }
}
