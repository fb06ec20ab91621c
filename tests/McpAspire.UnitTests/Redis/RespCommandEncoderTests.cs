using System.Buffers;
using System.Text;
using McpAspire.ServiceDefaults.Redis;

namespace McpAspire.UnitTests.Redis;

public sealed class RespCommandEncoderTests
{
    [Fact]
    public void Encodes_a_command_as_an_array_of_bulk_strings()
    {
        var writer = new ArrayBufferWriter<byte>();

        RespCommandEncoder.Encode(writer, ["SET", "ключ", (RedisArgument)"v"u8.ToArray(), "PX", 1500L]);

        Assert.Equal("*5\r\n$3\r\nSET\r\n$8\r\nключ\r\n$1\r\nv\r\n$2\r\nPX\r\n$4\r\n1500\r\n", Encoding.UTF8.GetString(writer.WrittenSpan));
    }

    [Fact]
    public void Encodes_empty_and_binary_arguments_byte_for_byte()
    {
        var writer = new ArrayBufferWriter<byte>();
        byte[] binary = [0, 13, 10, 255];

        RespCommandEncoder.Encode(writer, ["SET", string.Empty, binary]);

        byte[] expected = [.. "*3\r\n$3\r\nSET\r\n$0\r\n\r\n$4\r\n"u8, 0, 13, 10, 255, .. "\r\n"u8];
        Assert.Equal(expected, writer.WrittenSpan.ToArray());
    }
}
