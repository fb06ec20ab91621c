using ModelContextProtocol.Client;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>The official C# MCP client, connected over Streamable HTTP.</summary>
public static class OfficialClient
{
    public static Task<McpClient> ConnectAsync(Uri endpoint, McpClientOptions? options = null) => McpClient.CreateAsync(
        new HttpClientTransport(new HttpClientTransportOptions { Endpoint = endpoint, TransportMode = HttpTransportMode.StreamableHttp }),
        options,
        cancellationToken: TestContext.Current.CancellationToken);
}
