using System.Diagnostics;
using System.Net;
using Yarp.ReverseProxy.Forwarder;

/// <summary>
/// The reference for <c>--target gateway</c>: YARP's <see cref="IHttpForwarder"/>, set up as its documentation
/// recommends for forwarding to one destination (one <see cref="HttpMessageInvoker"/> over a
/// <see cref="SocketsHttpHandler"/> without proxy, redirects, decompression or cookies; the default transformer).
/// It passes each POST to the node and the answer back, with no routing, parsing, breakers or retries of ours. It
/// runs as a process of its own (<see cref="ChildServer"/>), as the coordinator does, so the two are measured alike.
/// With the service defaults, it is the same proxy as a service of this solution would run it: with the coordinator's
/// logging (console, warnings and up, trace-correlated), OpenTelemetry (ASP.NET Core, HttpClient and runtime
/// instrumentation, no exporter, as under the benchmark), health checks and the rest of <c>AddServiceDefaults</c>.
/// </summary>
internal static class YarpProxy
{
    /// <summary>
    /// Serves as the proxy in front of <paramref name="upstream"/> (the node's MCP URL) until the process is killed,
    /// bare or with <paramref name="serviceDefaults"/>.
    /// </summary>
    public static async Task ServeAsync(Uri upstream, bool serviceDefaults)
    {
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
            ConnectTimeout = TimeSpan.FromSeconds(15),
        });
        var builder = serviceDefaults ? WebApplication.CreateBuilder() : WebApplication.CreateSlimBuilder();
        if (serviceDefaults)
        {
            builder.AddServiceDefaults();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
        }
        else
        {
            builder.Logging.ClearProviders();
        }

        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddHttpForwarder();
        var app = builder.Build();

        // The request keeps its path (/mcp): the destination is the node's base address.
        var destination = new Uri(upstream, "/").ToString();
        var requestConfig = new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(100) };
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        app.MapPost("/mcp", async (HttpContext context) =>
        {
            await forwarder.SendAsync(context, destination, invoker, requestConfig, HttpTransformer.Default);
        });
        await ChildServer.ServeAsync(app, "/mcp");
    }
}
