using System.Globalization;
using System.Text;

namespace McpAspire.ServiceDefaults.Redis;

/// <summary>One argument of a Redis command: text (sent as UTF-8), raw bytes, or an integer.</summary>
public readonly struct RedisArgument : IEquatable<RedisArgument>
{
    private readonly string? _text;
    private readonly ReadOnlyMemory<byte> _bytes;

    private RedisArgument(string? text, ReadOnlyMemory<byte> bytes)
    {
        _text = text;
        _bytes = bytes;
    }

    /// <summary>Wraps text.</summary>
    public static implicit operator RedisArgument(string text) => new(text ?? string.Empty, default);

    /// <summary>Wraps raw bytes.</summary>
    public static implicit operator RedisArgument(byte[] bytes) => new(null, bytes);

    /// <summary>Wraps raw bytes.</summary>
    public static implicit operator RedisArgument(ReadOnlyMemory<byte> bytes) => new(null, bytes);

    /// <summary>Wraps an integer, sent as its decimal text.</summary>
    public static implicit operator RedisArgument(long number) => new(number.ToString(CultureInfo.InvariantCulture), default);

    /// <summary>Wraps text.</summary>
    public static RedisArgument FromString(string text) => text;

    /// <summary>Wraps raw bytes.</summary>
    public static RedisArgument FromBytes(ReadOnlyMemory<byte> bytes) => bytes;

    /// <summary>Wraps an integer.</summary>
    public static RedisArgument FromInt64(long number) => number;

    internal int ByteCount => _text is null ? _bytes.Length : Encoding.UTF8.GetByteCount(_text);

    internal int WriteTo(Span<byte> destination) =>
        _text is null ? CopyBytes(destination) : Encoding.UTF8.GetBytes(_text, destination);

    private int CopyBytes(Span<byte> destination)
    {
        _bytes.Span.CopyTo(destination);
        return _bytes.Length;
    }

    /// <inheritdoc/>
    public bool Equals(RedisArgument other) =>
        _text is null ? other._text is null && _bytes.Span.SequenceEqual(other._bytes.Span) : _text == other._text;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is RedisArgument other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _text?.GetHashCode(StringComparison.Ordinal) ?? _bytes.Length;

    /// <summary>Compares two arguments by content.</summary>
    public static bool operator ==(RedisArgument left, RedisArgument right) => left.Equals(right);

    /// <summary>Compares two arguments by content.</summary>
    public static bool operator !=(RedisArgument left, RedisArgument right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString() => _text ?? Encoding.UTF8.GetString(_bytes.Span);
}
