using System.Globalization;
using System.Text;

namespace McpAspire.ServiceDefaults.Redis;

/// <summary>The RESP2 reply kinds.</summary>
public enum RespType
{
    /// <summary><c>+OK</c></summary>
    SimpleString,

    /// <summary><c>-ERR ...</c></summary>
    Error,

    /// <summary><c>:42</c></summary>
    Number,

    /// <summary><c>$3 foo</c>, or the null bulk string <c>$-1</c>.</summary>
    BulkString,

    /// <summary><c>*2 ...</c>, or the null array <c>*-1</c>.</summary>
    Array,
}

/// <summary>One parsed RESP2 reply.</summary>
public sealed class RespValue
{
    private static readonly RespValue[] NoItems = [];

    private RespValue(RespType type, byte[]? bytes, long integer, RespValue[]? items)
    {
        Type = type;
        Bytes = bytes;
        Number = integer;
        Items = items;
    }

    /// <summary>The null bulk string (<c>$-1</c>), as returned by GET on a missing key.</summary>
    public static RespValue NullBulk { get; } = new(RespType.BulkString, null, 0, null);

    /// <summary>The null array (<c>*-1</c>).</summary>
    public static RespValue NullArray { get; } = new(RespType.Array, null, 0, null);

    /// <summary>The empty array (<c>*0</c>).</summary>
    public static RespValue EmptyArray { get; } = new(RespType.Array, null, 0, NoItems);

    /// <summary>The reply kind.</summary>
    public RespType Type { get; }

    /// <summary>The payload of a simple string, error or bulk string; <see langword="null"/> for a null bulk string.</summary>
    public byte[]? Bytes { get; }

    /// <summary>The value of an integer reply.</summary>
    public long Number { get; }

    /// <summary>The elements of an array reply; <see langword="null"/> for a null array.</summary>
    public IReadOnlyList<RespValue>? Items { get; }

    /// <summary>Whether this is a null bulk string or a null array.</summary>
    public bool IsNull => Type switch
    {
        RespType.BulkString => Bytes is null,
        RespType.Array => Items is null,
        _ => false,
    };

    internal static RespValue SimpleString(byte[] bytes) => new(RespType.SimpleString, bytes, 0, null);

    internal static RespValue Error(byte[] bytes) => new(RespType.Error, bytes, 0, null);

    internal static RespValue FromInteger(long value) => new(RespType.Number, null, value, null);

    internal static RespValue Bulk(byte[] bytes) => new(RespType.BulkString, bytes, 0, null);

    internal static RespValue FromArray(RespValue[] items) => items.Length == 0 ? EmptyArray : new(RespType.Array, null, 0, items);

    /// <summary>The payload decoded as UTF-8, or the integer as text; <see langword="null"/> for nulls and arrays.</summary>
    public string? AsString() => Type switch
    {
        RespType.Number => Number.ToString(CultureInfo.InvariantCulture),
        RespType.Array => null,
        _ => Bytes is null ? null : Encoding.UTF8.GetString(Bytes),
    };

    /// <inheritdoc/>
    public override string ToString() => Type switch
    {
        RespType.Array when Items is null => "(nil array)",
        RespType.Array => $"[{string.Join(", ", Items!)}]",
        RespType.BulkString when Bytes is null => "(nil)",
        RespType.Error => $"(error) {AsString()}",
        _ => AsString() ?? string.Empty,
    };
}
