using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>
/// A loopback hop that passes every request to one MCP endpoint with a bearer token added, and streams the answer
/// back as it comes: for clients that cannot send headers of their own, such as the conformance suite's CLI.
/// </summary>
public sealed class TokenProxy : IAsyncDisposable
{
    private static readonly HashSet<string> HopHeaders = new(StringComparer.OrdinalIgnoreCase) { "Host", "Connection", "Transfer-Encoding", "Keep-Alive", "Authorization" };

    private readonly WebApplication _app;
    private readonly HttpClient _http;

    private TokenProxy(WebApplication app, HttpClient http)
    {
        _app = app;
        _http = http;
    }

    public Uri McpUrl => new(new Uri(_app.Urls.Single()), "/mcp");

    public static async Task<TokenProxy> StartAsync(Uri target, string token)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = Timeout.InfiniteTimeSpan };
        app.Map("/mcp", async context =>
        {
            using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), target);
            if (HttpMethods.IsPost(context.Request.Method))
            {
                request.Content = new StreamContent(context.Request.Body);
                if (context.Request.ContentType is { } type)
                {
                    request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
                }
            }

            foreach (var (name, values) in context.Request.Headers.Where(header => !HopHeaders.Contains(header.Key) && !header.Key.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)))
            {
                request.Headers.TryAddWithoutValidation(name, values.ToArray());
            }

            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers).Where(header => !HopHeaders.Contains(header.Key)))
            {
                context.Response.Headers[name] = values.ToArray();
            }

            await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        });
        await app.StartAsync();
        return new TokenProxy(app, http);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _http.Dispose();
    }
}
