using System.Diagnostics;
using System.Net.Http.Headers;

/// <summary>
/// The floor for <c>--target gateway</c>: the least any ASP.NET Core proxy does for a call. It passes a POST to
/// one fixed upstream and its answer back, with no routing, parsing, breakers, retries or telemetry. It runs as a
/// process of its own, as the coordinator does, so the two are measured alike.
/// </summary>
internal sealed class BareProxy(Process process, Uri url) : IAsyncDisposable
{
    /// <summary>The option that makes EchoBench serve as the proxy instead of running a benchmark.</summary>
    public const string ServeOption = "--serve-proxy";

    private const string ListeningPrefix = "listening on ";

    /// <summary>The headers a call carries that the node reads; the coordinator sends the same ones.</summary>
    private static readonly string[] ForwardedHeaders = ["Accept", "MCP-Protocol-Version", "Mcp-Method", "Mcp-Name"];

    private static readonly MediaTypeHeaderValue Json = new("application/json");

    public Uri Url { get; } = url;

    public int ProcessId => process.Id;

    /// <summary>Starts the proxy in front of <paramref name="upstream"/> and waits until it listens.</summary>
    public static async Task<BareProxy> StartAsync(Uri upstream)
    {
        var entry = Environment.ProcessPath!;
        var start = Path.GetFileNameWithoutExtension(entry) == "dotnet"
            ? new ProcessStartInfo(entry, [typeof(BareProxy).Assembly.Location, ServeOption, upstream.ToString()])
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
                    return new BareProxy(process, new Uri(line[ListeningPrefix.Length..]));
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // Still not listening: stopped below.
        }

        await StopAsync(process);
        throw new InvalidOperationException("The bare proxy did not start listening within 60 s.");
    }

    /// <summary>Serves as the proxy until the process is killed, after printing the URL to call.</summary>
    public static async Task ServeAsync(Uri upstream)
    {
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler { UseProxy = false, UseCookies = false, AllowAutoRedirect = false });
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapPost("/mcp", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            using var request = new HttpRequestMessage(HttpMethod.Post, upstream) { Content = new ReadOnlyMemoryContent(body.GetBuffer().AsMemory(0, (int)body.Length)) };
            request.Content.Headers.ContentType = Json;
            foreach (var name in ForwardedHeaders)
            {
                if (context.Request.Headers[name] is { Count: 1 } value)
                {
                    request.Headers.TryAddWithoutValidation(name, value.ToString());
                }
            }

            using var response = await invoker.SendAsync(request, context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
            context.Response.ContentLength = response.Content.Headers.ContentLength;
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
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
