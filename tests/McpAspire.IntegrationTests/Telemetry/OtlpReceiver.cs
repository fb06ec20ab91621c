using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace McpAspire.IntegrationTests.Telemetry;

/// <summary>A minimal OTLP receiver on 127.0.0.1: records every export request's path, content type, body and <c>x-api-key</c> header.</summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<(string Path, string? ContentType, byte[] Body, string? ApiKey)> Exports { get; } = new();

    public Uri Endpoint => new(_app.Urls.Single());

    /// <summary>An OTLP/HTTP receiver: <c>/v1/traces</c>, <c>/v1/metrics</c>, <c>/v1/logs</c>.</summary>
    public static Task<OtlpReceiver> StartAsync() => StartAsync(HttpProtocols.Http1AndHttp2, "/v1/{signal}", context =>
    {
        context.Response.ContentType = "application/x-protobuf";
        return Task.CompletedTask;
    });

    /// <summary>
    /// An OTLP/gRPC receiver: HTTP/2 without TLS, answering each export with an empty gRPC message and
    /// <c>grpc-status: 0</c>. Paths are recorded as sent (<c>/opentelemetry.proto.collector.trace.v1.TraceService/Export</c>).
    /// </summary>
    public static Task<OtlpReceiver> StartGrpcAsync() => StartAsync(HttpProtocols.Http2, "/{service}/Export", async context =>
    {
        context.Response.ContentType = "application/grpc";
        // One uncompressed message of zero bytes: the empty Export*ServiceResponse.
        await context.Response.Body.WriteAsync(new byte[5], context.RequestAborted);
        context.Response.AppendTrailer("grpc-status", "0");
    });

    private static async Task<OtlpReceiver> StartAsync(HttpProtocols protocols, string pattern, Func<HttpContext, Task> answer)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = protocols));
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost(pattern, async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            receiver.Exports.Enqueue((context.Request.Path.Value!, context.Request.ContentType, body.ToArray(), context.Request.Headers["x-api-key"].ToString()));
            await answer(context);
        });
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
