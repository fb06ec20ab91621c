using System.Diagnostics;
using System.Net;
using Yarp.ReverseProxy.Forwarder;

/// <summary>
/// The reference for <c>--target gateway</c>: YARP's <see cref="IHttpForwarder"/>, set up as its documentation
/// recommends for forwarding to one destination (one <see cref="HttpMessageInvoker"/> over a
/// <see cref="SocketsHttpHandler"/> without proxy, redirects, decompression or cookies; the default transformer).
/// It passes each POST to the node and the answer back, with no routing, parsing, breakers or retries of ours. It
/// runs as a process of its own, as the coordinator does, so the two are measured alike.
/// </summary>
internal sealed class YarpProxy(Process process, Uri url) : IAsyncDisposable
{
    /// <summary>The option that makes EchoBench serve as the proxy instead of running a benchmark.</summary>
    public const string ServeOption = "--serve-proxy";

    private const string ListeningPrefix = "listening on ";

    public Uri Url { get; } = url;

    public int ProcessId => process.Id;

    /// <summary>Starts the proxy in front of <paramref name="upstream"/> (the node's MCP URL) and waits until it listens.</summary>
    public static async Task<YarpProxy> StartAsync(Uri upstream)
    {
        var entry = Environment.ProcessPath!;
        var start = Path.GetFileNameWithoutExtension(entry) == "dotnet"
            ? new ProcessStartInfo(entry, [typeof(YarpProxy).Assembly.Location, ServeOption, upstream.ToString()])
            : new ProcessStartInfo(entry, [ServeOption, upstream.ToString()]);
        start.RedirectStandardOutput = true;
        var process = Process.Start(start)!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
            {
                if (line.StartsWith(ListeningPrefix, StringComparison.Ordinal))
                {
                    return new YarpProxy(process, new Uri(line[ListeningPrefix.Length..]));
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // Still not listening: stopped below.
        }

        await StopAsync(process);
        throw new InvalidOperationException("The YARP proxy did not start listening within 60 s.");
    }

    /// <summary>Serves as the proxy until the process is killed, after printing the URL to call.</summary>
    public static async Task ServeAsync(Uri upstream)
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
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
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
        await app.StartAsync();
        Console.WriteLine(ListeningPrefix + new Uri(new Uri(app.Urls.Single()), "/mcp"));
        await app.WaitForShutdownAsync();
    }

    public ValueTask DisposeAsync() => new(StopAsync(process));

    private static async Task StopAsync(Process process)
    {
        process.Kill();
        await process.WaitForExitAsync();
        process.Dispose();
    }
}
