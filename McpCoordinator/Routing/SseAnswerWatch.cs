using System.Text.Json;

namespace McpAspire.McpCoordinator.Routing;

/// <summary>
/// Watches an SSE answer on its way to the client and tells whether a complete event carrying a JSON-RPC
/// response (a <c>result</c> or an <c>error</c>) has gone through. A POST's stream ends with the response to
/// its request, so once one has passed, the client has its answer: should the stream break after it, the
/// call needs no "may have run" answer, which would be a second response to one request.
/// </summary>
/// <remarks>
/// Only the start of each event's first <c>data:</c> line is kept (<see cref="PrefixBytes"/>), and only the
/// top-level member names before the first object or array are read, so a large result costs nothing extra.
/// What cannot be told from that prefix counts as not a response: a duplicate answer is better than none.
/// </remarks>
public sealed class SseAnswerWatch
{
    /// <summary>How much of an event's first data line is kept to classify it.</summary>
    public const int PrefixBytes = 512;

    private readonly byte[] _prefix = new byte[PrefixBytes];
    private int _prefixLength;
    private bool _atLineStart = true;
    private bool _inDataLine;
    private bool _eventHasData;
    private bool _eventIsFirstData;
    private int _fieldMatched;

    /// <summary>Whether a complete event carrying a response has gone through.</summary>
    public bool SawResponse { get; private set; }

    /// <summary>Takes the next bytes of the stream, as they go to the client.</summary>
    public void Observe(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            if (b is (byte)'\n' or (byte)'\r')
            {
                if (_atLineStart && b == '\n' && _eventHasData)
                {
                    // A blank line: the event is complete.
                    SawResponse |= IsResponse(_prefix.AsSpan(0, _prefixLength));
                    _prefixLength = 0;
                    _eventHasData = false;
                }

                if (b == '\n')
                {
                    _atLineStart = true;
                    _fieldMatched = 0;
                    _inDataLine = false;
                }

                continue;
            }

            if (_atLineStart)
            {
                _atLineStart = false;
                _fieldMatched = 0;
                _eventIsFirstData = !_eventHasData;
            }

            if (_inDataLine)
            {
                if (_eventIsFirstData && _prefixLength < PrefixBytes)
                {
                    _prefix[_prefixLength++] = b;
                }

                continue;
            }

            // Matching the field name "data:" at the start of a line.
            if (_fieldMatched >= 0 && _fieldMatched < 5 && b == "data:"u8[_fieldMatched])
            {
                if (++_fieldMatched == 5)
                {
                    _inDataLine = true;
                    _eventHasData = true;
                }
            }
            else
            {
                _fieldMatched = -1;
            }
        }
    }

    /// <summary>Whether <paramref name="data"/> starts a JSON object whose top-level members include <c>result</c> or <c>error</c>, before any <c>method</c>.</summary>
    private static bool IsResponse(ReadOnlySpan<byte> data)
    {
        var reader = new Utf8JsonReader(data, isFinalBlock: false, state: default);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("result"u8) || reader.ValueTextEquals("error"u8))
                {
                    return true;
                }

                if (reader.ValueTextEquals("method"u8) || !reader.Read() || reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    // A request or notification, or a member this prefix cannot see past.
                    return false;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: not a response.
        }

        return false;
    }
}
