using System.Net;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace McpAspire.AppHost.Hosting;

/// <summary>
/// The dashboard's health check of an MCP server: a JSON-RPC <c>ping</c> POSTed to its endpoint. Any HTTP answer short
/// of a server error shows it is up (a stateful server answers 400 to a request without a session, a busy one 503),
/// the same rule as the coordinator's circuit breakers.
/// </summary>
internal sealed class McpPingHealthCheck(Func<Uri> mcpUrl) : IHealthCheck
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        Uri url;
        try
        {
            url = mcpUrl();
        }
        catch (InvalidOperationException ex)
        {
            // The endpoint has no address yet.
            return HealthCheckResult.Unhealthy(ex.Message);
        }

        using var ping = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":"aspire-health","method":"ping"}""", Encoding.UTF8, "application/json"),
        };
        ping.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        try
        {
            using var response = await Http.SendAsync(ping, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            return (int)response.StatusCode >= 500 && response.StatusCode != HttpStatusCode.ServiceUnavailable
                ? HealthCheckResult.Unhealthy($"{url} answered HTTP {(int)response.StatusCode}")
                : HealthCheckResult.Healthy($"{url} answers");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return HealthCheckResult.Unhealthy($"{url} does not answer: {ex.Message}");
        }
    }
}
