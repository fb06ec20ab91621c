using System.Diagnostics;
using System.Text.Json.Nodes;
using McpAspire.IntegrationTests.Infrastructure;
using OpenTelemetry.Trace;

namespace McpAspire.IntegrationTests.Telemetry;

/// <summary>
/// Redis commands as the services' OpenTelemetry pipeline exports them (an in-memory exporter beside OTLP's): the
/// StackExchange.Redis integration's spans of a traced tool call are children in its trace, and the heartbeats and
/// registry reads made outside any trace export nothing.
/// </summary>
public sealed class RedisTracingTests
{
    private const string RedisSource = "OpenTelemetry.Instrumentation.StackExchangeRedis";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_traced_transfer_exports_its_redis_commands_as_children_and_background_commands_export_none()
    {
        await using var store = await StoreServer.StartGarnetAsync();
        var fromNode = new List<Activity>();
        var fromCoordinator = new List<Activity>();
        var node = TestServices.StartNode(
            services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(fromNode)),
            ("ConnectionStrings:redis", store.ConnectionString), ("Node:Id", "redis-traced"), ("Node:Packs", "core,transactions"), ("Node:HeartbeatInterval", "00:00:00.200"));
        var coordinator = TestServices.StartCoordinator(
            store.ConnectionString,
            services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(fromCoordinator)),
            ("Coordinator:RegistryRefreshInterval", "00:00:00.100"));
        var trace = ActivityTraceId.CreateRandom();
        using (var http = new HttpClient())
        {
            // Every registry read is a new readAt; by the fifth, the node has heartbeated and the coordinator read several times.
            var readAt = new HashSet<string>();
            await Eventually.UntilAsync(async () =>
            {
                if (JsonNode.Parse(await http.GetStringAsync(new Uri(coordinator.BaseUrl, "/api/nodes"), Cancel))?["readAt"]?.GetValue<string>() is { } read)
                {
                    readAt.Add(read);
                }
                return readAt.Count >= 5;
            });

            using var call = RawMcp.Post(
                node.McpUrl,
                """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"submit_transaction","arguments":{"transaction":{"from":"acct-1","to":"acct-2","amount":5,"currency":"EUR"},"idempotency_key":"traced-transfer"}}}""");
            using var inTrace = TestTrace.Start(trace);
            using var response = await http.SendAsync(call, Cancel);
            var answer = await RawMcp.ReadMessageAsync(response);
            Assert.Null(answer["error"]);
        }

        // The instrumentation turns the commands it profiled into spans every 10 s, and once more as the services stop.
        // The factory's DisposeAsync can return before the app's own thread has stopped the host, so wait for that flush.
        await coordinator.DisposeAsync();
        await node.DisposeAsync();
        // The idempotency claim (SET NX) and the commit script, at least; every exported command belongs to the call.
        await Eventually.UntilAsync(() => Task.FromResult(fromNode.ToArray().Count(span => span.Source.Name == RedisSource) >= 2));

        // Copied first: an exporter may still be adding the spans of a last flush.
        var nodeSpans = fromNode.ToArray();
        var redisSpans = nodeSpans.Concat(fromCoordinator.ToArray()).Where(span => span.Source.Name == RedisSource).ToArray();
        Assert.All(redisSpans, span => Assert.Equal(trace, span.TraceId));
        Assert.All(redisSpans, span => Assert.NotEqual(default, span.ParentSpanId));
        Assert.All(redisSpans, span => Assert.Equal(ActivityKind.Client, span.Kind));
        Assert.Contains(nodeSpans, span => span.TraceId == trace && span.Source.Name == "Microsoft.AspNetCore");
    }
}
