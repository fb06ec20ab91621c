namespace McpAspire.Mcp;

/// <summary>JSON-RPC error codes this project answers with.</summary>
public static class McpErrorCodes
{
    /// <summary>The body is not valid JSON.</summary>
    public const int ParseError = -32700;

    /// <summary>The body is JSON but not a valid JSON-RPC message.</summary>
    public const int InvalidRequest = -32600;

    /// <summary>The method does not exist.</summary>
    public const int MethodNotFound = -32601;

    /// <summary>The parameters are invalid, including an unknown tool name.</summary>
    public const int InvalidParams = -32602;

    /// <summary>A transport-level rejection (headers, size, session) that has no more specific code.</summary>
    public const int ServerError = -32000;

    /// <summary>A standard header (<c>Mcp-Method</c>, <c>Mcp-Name</c>, <c>MCP-Protocol-Version</c>) is missing, malformed or disagrees with the body.</summary>
    public const int HeaderMismatch = -32020;

    /// <summary>The request's protocol version is one this endpoint does not serve; the error's data lists those it does.</summary>
    public const int UnsupportedProtocolVersion = -32022;

    /// <summary>The session in <c>Mcp-Session-Id</c> is unknown or has ended.</summary>
    public const int SessionNotFound = -32001;

    /// <summary>A <c>resources/read</c> of a URI the server cannot read, before 2026-07-28 (from then on it is <see cref="InvalidParams"/>).</summary>
    public const int ResourceNotFound = -32002;
}
