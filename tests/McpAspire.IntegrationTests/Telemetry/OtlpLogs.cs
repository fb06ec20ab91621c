using System.Text;

namespace McpAspire.IntegrationTests.Telemetry;

/// <summary>One log record of an OTLP export: its scope (the logger's category), trace id and string attributes.</summary>
public sealed record OtlpLogRecord(string Scope, string TraceId, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// Reads the log records of OTLP/HTTP protobuf exports (<c>ExportLogsServiceRequest</c>), walking the wire format
/// by the field numbers of opentelemetry-proto's logs.proto; only what the tests look at is kept.
/// </summary>
public static class OtlpLogs
{
    public static IEnumerable<OtlpLogRecord> Read(byte[] export)
    {
        foreach (var resourceLogs in Fields(export, 1))
        {
            foreach (var scopeLogs in Fields(resourceLogs, 2))
            {
                var scope = Fields(scopeLogs, 1).Select(s => Text(Fields(s, 1).FirstOrDefault())).FirstOrDefault() ?? string.Empty;
                foreach (var record in Fields(scopeLogs, 2))
                {
                    var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var pair in Fields(record, 6))
                    {
                        var key = Text(Fields(pair, 1).FirstOrDefault());
                        var value = Fields(pair, 2).FirstOrDefault();
                        if (key is not null && value is not null && Text(Fields(value, 1).FirstOrDefault()) is { } text)
                        {
                            attributes[key] = text;
                        }
                    }

                    var traceId = Fields(record, 9).FirstOrDefault() is { } id ? Convert.ToHexStringLower(id) : string.Empty;
                    yield return new OtlpLogRecord(scope, traceId, attributes);
                }
            }
        }
    }

    private static string? Text(byte[]? bytes) => bytes is null ? null : Encoding.UTF8.GetString(bytes);

    /// <summary>The length-delimited fields numbered <paramref name="number"/> of a message; other fields are skipped.</summary>
    private static List<byte[]> Fields(byte[] message, int number)
    {
        var found = new List<byte[]>();
        var at = 0;
        while (at < message.Length)
        {
            var tag = Varint(message, ref at);
            var wire = (int)(tag & 7);
            switch (wire)
            {
                case 0:
                    Varint(message, ref at);
                    break;
                case 1:
                    at += 8;
                    break;
                case 5:
                    at += 4;
                    break;
                case 2:
                    var length = (int)Varint(message, ref at);
                    if ((int)(tag >> 3) == number)
                    {
                        found.Add(message[at..(at + length)]);
                    }

                    at += length;
                    break;
                default:
                    throw new InvalidDataException($"wire type {wire} in an OTLP export");
            }
        }

        return found;
    }

    private static ulong Varint(byte[] message, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
