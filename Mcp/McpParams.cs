using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;

namespace McpAspire.Mcp;

/// <summary>
/// Reads values from a request's <c>params</c> without trusting its shape. JSON nodes throw on
/// duplicate property names and on strings with unpaired surrogate escapes (<c>"\ud800"</c>) when they
/// are first read; here such a value counts as absent.
/// </summary>
public static class McpParams
{
    /// <summary>The method and params of a request or notification; both <see langword="null"/> for a response.</summary>
    public static (string? Method, JsonNode? Params) Of(JsonRpcMessage message) => message switch
    {
        JsonRpcRequest request => (request.Method, request.Params),
        JsonRpcNotification notification => (notification.Method, notification.Params),
        _ => (null, null),
    };

    /// <summary>The id of a request or response; the default (no id) for a notification.</summary>
    public static RequestId IdOf(JsonRpcMessage message) => message is JsonRpcMessageWithId withId ? withId.Id : default;

    /// <summary>The string at <paramref name="path"/> (property names, outermost first), if it is one.</summary>
    public static bool TryGetString(JsonNode? parameters, [NotNullWhen(true)] out string? value, params ReadOnlySpan<string> path)
    {
        value = null;
        try
        {
            var node = parameters;
            foreach (var name in path)
            {
                node = node is JsonObject obj ? obj[name] : null;
            }

            return node is JsonValue text && text.TryGetValue(out value);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            value = null;
            return false;
        }
    }
}
