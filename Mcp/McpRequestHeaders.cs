using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using ModelContextProtocol.Protocol;

namespace McpAspire.Mcp;

/// <summary>
/// The headers that repeat parts of the body, so proxies and gateways can route without parsing it:
/// <c>Mcp-Method</c>, <c>Mcp-Name</c> and, from 2026-07-28, the version in <c>params._meta</c>. From
/// 2026-07-28 they are required. Whenever they are present, in any version, they must agree with the
/// body: a gateway that routes on a header must never run something else than the body says.
/// </summary>
internal static class McpRequestHeaders
{
    private const string EncodedPrefix = "=?base64?";
    private const string EncodedSuffix = "?=";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>What disagrees, or <see langword="null"/> when the headers match the body.</summary>
    /// <param name="headers">The request's headers.</param>
    /// <param name="message">The parsed body.</param>
    /// <param name="version">The version from <c>MCP-Protocol-Version</c>, or <see langword="null"/> when the header is absent.</param>
    public static string? Check(IHeaderDictionary headers, JsonRpcMessage message, string? version)
    {
        var perRequest = version is not null && McpProtocol.IsPerRequest(version);
        var (method, parameters) = McpParams.Of(message);

        if (message is JsonRpcRequest && VersionProblem(parameters, version) is { } versionProblem)
        {
            return versionProblem;
        }

        if (method is null)
        {
            return null;
        }

        var methodHeader = headers[McpProtocol.MethodHeader];
        if (methodHeader.Count == 0)
        {
            return perRequest ? $"the {McpProtocol.MethodHeader} header is required from {McpProtocol.LatestVersion}; set it to '{method}'" : null;
        }

        if (methodHeader.Count > 1 || !string.Equals(methodHeader[0], method, StringComparison.Ordinal))
        {
            return $"the {McpProtocol.MethodHeader} header '{Shorten(methodHeader)}' does not match the body's method '{Shorten(method)}'";
        }

        return NameProblem(headers[McpProtocol.NameHeader], method, parameters, perRequest);
    }

    /// <summary>
    /// What is missing when a request in a per-request version (2026-07-28) does not carry that version in
    /// <c>params._meta</c>; <see langword="null"/> otherwise. It is an invalid-params error, not a mismatch.
    /// </summary>
    public static string? MissingMetaVersion(JsonRpcMessage message, string? version) =>
        message is JsonRpcRequest request && version is not null && McpProtocol.IsPerRequest(version)
            && !McpParams.TryGetString(request.Params, out _, "_meta", McpProtocol.ProtocolVersionMetaKey)
            ? $"a {version} request must carry its version in params '_meta/{McpProtocol.ProtocolVersionMetaKey}'"
            : null;

    private static string? VersionProblem(JsonNode? parameters, string? version)
    {
        if (!McpParams.TryGetString(parameters, out var inMeta, "_meta", McpProtocol.ProtocolVersionMetaKey))
        {
            return null;
        }

        return string.Equals(inMeta, version, StringComparison.Ordinal)
            ? null
            : $"params._meta '{McpProtocol.ProtocolVersionMetaKey}' is '{Shorten(inMeta)}' but the {McpProtocol.ProtocolVersionHeader} header is {(version is null ? "missing" : $"'{version}'")}";
    }

    private static string? NameProblem(StringValues nameHeader, string method, JsonNode? parameters, bool perRequest)
    {
        var key = method switch
        {
            RequestMethods.ToolsCall or RequestMethods.PromptsGet => "name",
            RequestMethods.ResourcesRead => "uri",
            _ => null,
        };

        if (key is null || !McpParams.TryGetString(parameters, out var expected, key))
        {
            // Other methods name nothing; a body without the value is answered as invalid params instead.
            return null;
        }

        if (nameHeader.Count == 0)
        {
            return perRequest ? $"the {McpProtocol.NameHeader} header is required for {method} from {McpProtocol.LatestVersion}; set it to params.{key}" : null;
        }

        if (nameHeader.Count > 1)
        {
            return $"the {McpProtocol.NameHeader} header appears more than once";
        }

        if (!TryDecode(nameHeader[0]!, out var name))
        {
            return $"the {McpProtocol.NameHeader} header's {EncodedPrefix}...{EncodedSuffix} value is not valid Base64 of UTF-8 text";
        }

        return string.Equals(name, expected, StringComparison.Ordinal)
            ? null
            : $"the {McpProtocol.NameHeader} header '{Shorten(name)}' does not match params.{key} '{Shorten(expected)}'";
    }

    /// <summary>Decodes a header value: plain ASCII as is, or <c>=?base64?…?=</c> around the base64 of UTF-8 text.</summary>
    public static bool TryDecode(string value, out string decoded)
    {
        decoded = value;
        if (!value.StartsWith(EncodedPrefix, StringComparison.Ordinal) || !value.EndsWith(EncodedSuffix, StringComparison.Ordinal) ||
            value.Length < EncodedPrefix.Length + EncodedSuffix.Length)
        {
            return true;
        }

        var encoded = value.AsSpan(EncodedPrefix.Length, value.Length - EncodedPrefix.Length - EncodedSuffix.Length);
        var bytes = ArrayPool<byte>.Shared.Rent(encoded.Length);
        try
        {
            if (!Convert.TryFromBase64Chars(encoded, bytes, out var length))
            {
                return false;
            }

            decoded = StrictUtf8.GetString(bytes, 0, length);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    private static string Shorten(string? value) => value is null ? string.Empty : value.Length <= 64 ? value : string.Concat(value.AsSpan(0, 64), "...");
}
