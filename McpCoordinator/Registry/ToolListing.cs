using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpAspire.McpCoordinator.Registry;

/// <summary>
/// Tools as <c>tools/list</c> serves them: in name order, each definition serialized once, so a page is found by a
/// binary search on the cursor's name and written by copying bytes. A snapshot builds its listing once, on the first
/// <c>tools/list</c> after the registry changed; whatever the number of tools, a page then costs about the same.
/// </summary>
public sealed class ToolListing
{
    private static readonly JsonTypeInfo<Tool> ToolJson = (JsonTypeInfo<Tool>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(Tool));
    private static readonly JsonTypeInfo<RequestId> RequestIdJson = (JsonTypeInfo<RequestId>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(RequestId));

    private readonly byte[][] _json;

    /// <summary>The listing of <paramref name="tools"/>, which must be in ordinal name order, each name once.</summary>
    public ToolListing(IReadOnlyList<Tool> tools)
    {
        ArgumentNullException.ThrowIfNull(tools);
        Tools = tools;
        _json = [.. tools.Select(tool => JsonSerializer.SerializeToUtf8Bytes(tool, ToolJson))];
    }

    /// <summary>The tools, in name order.</summary>
    public IReadOnlyList<Tool> Tools { get; }

    /// <summary>
    /// Writes the JSON-RPC answer <paramref name="id"/> to <c>tools/list</c>, as the SDK's <see cref="ListToolsResult"/>
    /// would be written: the tools at <paramref name="page"/>, <paramref name="nextCursor"/> when there are more, and,
    /// when <paramref name="uncacheable"/> (from 2026-07-28), that the list may not be kept (<c>ttlMs</c> 0, private).
    /// </summary>
    public void WriteAnswer(IBufferWriter<byte> output, RequestId id, IEnumerable<int> page, string? nextCursor, bool uncacheable)
    {
        ArgumentNullException.ThrowIfNull(page);
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        writer.WriteString("jsonrpc", "2.0");
        writer.WritePropertyName("id");
        JsonSerializer.Serialize(writer, id, RequestIdJson);
        writer.WriteStartObject("result");
        writer.WriteStartArray("tools");
        foreach (var index in page)
        {
            writer.WriteRawValue(_json[index], skipInputValidation: true);
        }

        writer.WriteEndArray();
        if (nextCursor is not null)
        {
            writer.WriteString("nextCursor", nextCursor);
        }

        if (uncacheable)
        {
            writer.WriteNumber("ttlMs", 0);
            writer.WriteString("cacheScope", "private");
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>The index of the first tool whose name sorts after <paramref name="name"/> (ordinal), or the count if none does.</summary>
    public int IndexAfter(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var (low, high) = (0, Tools.Count);
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            if (string.CompareOrdinal(Tools[middle].Name, name) <= 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }
}
