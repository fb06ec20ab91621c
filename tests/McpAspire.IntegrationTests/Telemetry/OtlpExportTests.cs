using System.Diagnostics;
using System.Text;
using McpAspire.IntegrationTests.Infrastructure;

namespace McpAspire.IntegrationTests.Telemetry;

/// <summary>With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, a service exports traces, metrics and logs to it.</summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task A_node_exports_traces_metrics_and_logs_over_otlp_http_with_its_service_name_and_headers()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var node = TestServices.StartNode(
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.Endpoint.ToString()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_SERVICE_NAME", "otlp-test-node"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.instance.id=instance-7"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=secret-7"),
            ("Logging:LogLevel:Default", "Information"));
        using (var http = new HttpClient())
        {
            Assert.Equal("still serving", await RawMcp.EchoAsync(http, node.McpUrl));
        }

        // Stopping the host disposes the providers, which flush everything still batched. The factory's
        // DisposeAsync can return before the app's own thread has disposed the host, so wait for the exports.
        await node.DisposeAsync();
        var exports = await Eventually.WaitForAsync(() => Task.FromResult(
            receiver.Exports.Select(export => export.Path).Distinct().Count() == 3 ? receiver.Exports.ToArray() : null));

        Assert.Equal(["/v1/logs", "/v1/metrics", "/v1/traces"], exports.Select(export => export.Path).Distinct().Order());
        Assert.All(exports, export => Assert.Equal("application/x-protobuf", export.ContentType));
        Assert.All(exports, export => Assert.Equal("secret-7", export.ApiKey));
        var traces = exports.Where(export => export.Path == "/v1/traces").SelectMany(export => export.Body).ToArray();
        Assert.Contains("otlp-test-node", Encoding.UTF8.GetString(traces), StringComparison.Ordinal);
        Assert.Contains("instance-7", Encoding.UTF8.GetString(traces), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_exports_over_otlp_grpc_by_default()
    {
        await using var receiver = await OtlpReceiver.StartGrpcAsync();
        var node = TestServices.StartNode(
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.Endpoint.ToString()),
            ("OTEL_SERVICE_NAME", "otlp-grpc-node"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=grpc-key"));
        using (var http = new HttpClient())
        {
            Assert.Equal("still serving", await RawMcp.EchoAsync(http, node.McpUrl));
        }

        await node.DisposeAsync();
        var traces = await Eventually.WaitForAsync(() => Task.FromResult(receiver.Exports
            .Where(export => export.Path == "/opentelemetry.proto.collector.trace.v1.TraceService/Export").ToArray() is { Length: > 0 } found ? found : null));

        Assert.All(traces, export => Assert.Equal("application/grpc", export.ContentType));
        Assert.All(traces, export => Assert.Equal("grpc-key", export.ApiKey));
        Assert.Contains(traces, export => Encoding.UTF8.GetString(export.Body).Contains("otlp-grpc-node", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_tool_call_through_the_coordinator_exports_one_trace_from_both_services()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var store = await StoreServer.StartGarnetAsync();
        (string, string?)[] Otlp(string service) =>
        [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.Endpoint.ToString()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_SERVICE_NAME", service),
        ];
        var node = TestServices.StartNode([("ConnectionStrings:redis", store.ConnectionString), ("Node:Id", "otlp-node"), ("Node:HeartbeatInterval", "00:00:00.200"), .. Otlp("otlp-test-node")]);
        var coordinator = TestServices.StartCoordinator(store.ConnectionString, [("Coordinator:RegistryRefreshInterval", "00:00:00.100"), .. Otlp("otlp-test-coordinator")]);
        var trace = ActivityTraceId.CreateRandom();
        using (var http = new HttpClient())
        {
            await Eventually.UntilAsync(async () => (await http.GetStringAsync(new Uri(coordinator.BaseUrl, "/api/nodes"))).Contains("otlp-node", StringComparison.Ordinal));
            using var call = RawMcp.Post(coordinator.McpUrl, RawMcp.EchoCall);
            using var inTrace = TestTrace.Start(trace);
            using var response = await http.SendAsync(call, TestContext.Current.CancellationToken);
            Assert.Equal("still serving", (await RawMcp.ReadMessageAsync(response))["result"]!["content"]![0]!["text"]!.GetValue<string>());
        }

        await coordinator.DisposeAsync();
        await node.DisposeAsync();

        // OTLP carries the trace id as its 16 raw bytes; each service's export names the service in its resource.
        var traceId = Convert.FromHexString(trace.ToHexString());
        bool ExportedBy(string service) => receiver.Exports.Any(export => export.Path == "/v1/traces"
            && export.Body.AsSpan().IndexOf(traceId) >= 0
            && Encoding.UTF8.GetString(export.Body).Contains(service, StringComparison.Ordinal));
        await Eventually.UntilAsync(() => Task.FromResult(ExportedBy("otlp-test-coordinator") && ExportedBy("otlp-test-node")));
    }

    [Fact]
    public void An_unsupported_protocol_stops_the_service_with_a_message_naming_the_key()
    {
        var error = Assert.ThrowsAny<Exception>(() => TestServices.StartNode(
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon")));

        Assert.Contains("OTEL_EXPORTER_OTLP_PROTOCOL 'carrier-pigeon' is not supported", error.ToString(), StringComparison.Ordinal);
    }
}
