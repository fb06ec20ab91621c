using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace McpAspire.IntegrationTests.Http;

/// <summary>
/// An HTTP server on a real loopback socket that answers each request by a script: the script gets the
/// request's number (from 1) and decides what goes wrong. It records when each request arrived.
/// </summary>
public sealed class MisbehavingServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<DateTimeOffset> _arrivals = new();
    private int _requests;

    private MisbehavingServer(WebApplication app) => _app = app;

    /// <summary>The server's base address.</summary>
    public Uri Address => new(_app.Urls.Single());

    /// <summary>How many requests reached the server.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>When each request arrived, in order.</summary>
    public IReadOnlyList<DateTimeOffset> Arrivals => [.. _arrivals];

    public static async Task<MisbehavingServer> StartAsync(Func<int, HttpContext, Task> script)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new MisbehavingServer(app);
        app.Run(context =>
        {
            server._arrivals.Enqueue(DateTimeOffset.UtcNow);
            return script(Interlocked.Increment(ref server._requests), context);
        });
        await app.StartAsync();
        return server;
    }

    /// <summary>Answers with <paramref name="status"/> and an empty body.</summary>
    public static Task Status(HttpContext context, HttpStatusCode status)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = (int)status;
        return Task.CompletedTask;
    }

    /// <summary>Never answers: waits until the client gives up.</summary>
    public static async Task Hang(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The client went away, which is what a hanging server waits for.
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
