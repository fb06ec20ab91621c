using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace McpAspire.IntegrationTests.Coordinator;

/// <summary>
/// A node that fails on purpose, on a real loopback socket: it reads the whole request (so the call
/// has reached it) and then hangs up without answering, starts an SSE answer and breaks it off, sends
/// part of an answer of declared length, or refuses the call as overloaded.
/// </summary>
public sealed class FaultyNode : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TaskCompletionSource _breakNow = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _requests;
    private byte[] _lastBody = [];

    private FaultyNode(WebApplication app) => _app = app;

    public enum Fault
    {
        /// <summary>Reset the connection before any response byte.</summary>
        HangUpBeforeAnswering,

        /// <summary>Send the SSE headers and one notification, then reset the connection when <see cref="BreakNow"/> is called.</summary>
        BreakMidStream,

        /// <summary>Send the SSE headers and half an event, then reset the connection when <see cref="BreakNow"/> is called.</summary>
        BreakInsideEvent,

        /// <summary>Answer the first request with an empty result, keeping the connection; reset it on every later one.</summary>
        HangUpAfterFirstAnswer,

        /// <summary>Answer 503 with <c>Retry-After: 2</c> and a "Server overloaded" JSON-RPC error, as a full node does.</summary>
        Overloaded,

        /// <summary>Send the SSE headers, one notification and the answer, then reset the connection (before the stream's end) when <see cref="BreakNow"/> is called.</summary>
        BreakAfterAnswer,

        /// <summary>Answer a <c>ping</c> at once; hold every other request until <see cref="BreakNow"/> is called, then answer it with an empty result.</summary>
        SlowCalls,

        /// <summary>Declare a whole SSE answer's <c>Content-Length</c>, send part of it, then reset the connection 300 ms later.</summary>
        ShortAnswer,
    }

    public Uri McpUrl => new(new Uri(_app.Urls.Single()), "/mcp");

    /// <summary>Breaks a <see cref="Fault.BreakMidStream"/> answer off, or releases <see cref="Fault.SlowCalls"/>.</summary>
    public void BreakNow() => _breakNow.TrySetResult();

    /// <summary>How many requests reached this node.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The body of the last request that reached this node, byte for byte.</summary>
    public byte[] LastBody => Volatile.Read(ref _lastBody);

    public static async Task<FaultyNode> StartAsync(Fault fault)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var node = new FaultyNode(app);
        app.MapPost("/mcp", async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            Volatile.Write(ref node._lastBody, body.ToArray());
            var request = Interlocked.Increment(ref node._requests);
            if (fault == Fault.HangUpAfterFirstAnswer && request == 1)
            {
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("""{"jsonrpc":"2.0","id":1,"result":{"content":[]}}""", context.RequestAborted);
                return;
            }

            if (fault == Fault.SlowCalls)
            {
                if (!Encoding.UTF8.GetString(body.ToArray()).Contains("\"method\":\"ping\"", StringComparison.Ordinal))
                {
                    await node._breakNow.Task.WaitAsync(context.RequestAborted);
                }

                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("""{"jsonrpc":"2.0","id":1,"result":{"content":[]}}""", context.RequestAborted);
                return;
            }

            if (fault == Fault.Overloaded)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                context.Response.Headers.RetryAfter = "2";
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(
                    """{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"Server overloaded: all 1 call slots are busy."}}""", context.RequestAborted);
                return;
            }

            if (fault == Fault.ShortAnswer)
            {
                const string Part = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"res";
                context.Response.ContentType = "text/event-stream";
                context.Response.ContentLength = Part.Length * 2;
                await context.Response.WriteAsync(Part, context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);

                // Long enough for a gateway that streams the part on to do so; the reset then follows.
                await Task.Delay(300, context.RequestAborted);
            }

            if (fault is Fault.BreakMidStream or Fault.BreakInsideEvent or Fault.BreakAfterAnswer)
            {
                const string Notification = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"working\"}}\n\n";
                context.Response.ContentType = "text/event-stream";
                await context.Response.WriteAsync(
                    fault switch
                    {
                        Fault.BreakMidStream => Notification,
                        Fault.BreakAfterAnswer => Notification + "event: message\ndata: {\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"done\"}]},\"id\":1,\"jsonrpc\":\"2.0\"}\n\n",
                        _ => "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/mes",
                    },
                    context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await node._breakNow.Task;
            }

            context.Abort();
        });
        await app.StartAsync();
        return node;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
