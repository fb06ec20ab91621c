using System.Buffers.Binary;

namespace McpAspire.McpNode.Packs.Conformance;

/// <summary>The smallest valid media the conformance tools return: a PNG image and a WAV sound.</summary>
public static class ConformanceMedia
{
    /// <summary>The sample rate of <see cref="Wav"/>, in samples per second.</summary>
    public const int WavSampleRate = 8000;

    /// <summary>A 1×1 PNG of one red pixel.</summary>
    public static ReadOnlyMemory<byte> Png { get; } = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC");

    /// <summary>A tenth of a second of silence: mono, 8-bit PCM at <see cref="WavSampleRate"/> Hz.</summary>
    public static ReadOnlyMemory<byte> Wav { get; } = BuildSilentWav(WavSampleRate / 10);

    private static byte[] BuildSilentWav(int samples)
    {
        const int HeaderBytes = 44;
        var wav = new byte[HeaderBytes + samples];
        var span = wav.AsSpan();
        "RIFF"u8.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], wav.Length - 8);
        "WAVE"u8.CopyTo(span[8..]);
        "fmt "u8.CopyTo(span[12..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(span[20..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(span[22..], 1);
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], WavSampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], WavSampleRate);
        BinaryPrimitives.WriteInt16LittleEndian(span[32..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(span[34..], 8);
        "data"u8.CopyTo(span[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[40..], samples);

        // Unsigned 8-bit PCM is silent at its midpoint.
        span[HeaderBytes..].Fill(0x80);
        return wav;
    }
}
