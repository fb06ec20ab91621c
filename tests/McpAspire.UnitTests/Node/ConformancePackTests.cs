using System.Buffers.Binary;
using McpAspire.McpNode.Packs.Conformance;
using ModelContextProtocol.Protocol;

namespace McpAspire.UnitTests.Node;

public sealed class ConformancePackTests
{
    [Fact]
    public void The_png_is_a_1x1_truecolor_image()
    {
        var png = ConformanceMedia.Png.Span;

        Assert.True(png[..8].SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }));
        Assert.True(png[12..16].SequenceEqual("IHDR"u8));
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(png[16..]));
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(png[20..]));
        Assert.True(png[^8..^4].SequenceEqual("IEND"u8));
    }

    [Fact]
    public void The_wav_header_describes_its_own_samples()
    {
        var wav = ConformanceMedia.Wav.Span;

        Assert.True(wav[..4].SequenceEqual("RIFF"u8));
        Assert.Equal(wav.Length - 8, BinaryPrimitives.ReadInt32LittleEndian(wav[4..]));
        Assert.True(wav[8..16].SequenceEqual("WAVEfmt "u8));
        Assert.Equal(1, BinaryPrimitives.ReadInt16LittleEndian(wav[20..]));
        Assert.Equal(ConformanceMedia.WavSampleRate, BinaryPrimitives.ReadInt32LittleEndian(wav[24..]));
        Assert.True(wav[36..40].SequenceEqual("data"u8));
        Assert.Equal(wav.Length - 44, BinaryPrimitives.ReadInt32LittleEndian(wav[40..]));
        Assert.Equal(ConformanceMedia.WavSampleRate / 10, wav.Length - 44);
    }

    [Theory]
    [InlineData("arg1", "", new[] { "hello", "help", "world" })]
    [InlineData("arg2", "hel", new[] { "hello", "help" })]
    [InlineData("arg1", "w", new[] { "world" })]
    [InlineData("arg1", "x", new string[0])]
    [InlineData("arg3", "", new string[0])]
    public void Completion_offers_the_suggestions_that_start_with_the_typed_text(string argument, string typed, string[] expected)
    {
        var result = ConformancePack.Complete(new CompleteRequestParams
        {
            Ref = new PromptReference { Name = ConformancePrompts.WithArgumentsName },
            Argument = new Argument { Name = argument, Value = typed },
        });

        Assert.Equal(expected, result.Completion.Values);
        Assert.Equal(expected.Length, result.Completion.Total);
        Assert.False(result.Completion.HasMore);
    }

    [Fact]
    public void Completion_for_anything_else_is_empty_not_an_error()
    {
        Assert.Empty(ConformancePack.Complete(null).Completion.Values);
        Assert.Empty(ConformancePack.Complete(new CompleteRequestParams
        {
            Ref = new ResourceTemplateReference { Uri = "test://template/{id}/data" },
            Argument = new Argument { Name = "id", Value = "1" },
        }).Completion.Values);
    }
}
