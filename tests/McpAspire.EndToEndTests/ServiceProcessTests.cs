using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace McpAspire.EndToEndTests;

/// <summary>What the service defaults do for a real service process: graceful shutdown and trace-correlated JSON logs.</summary>
public sealed class ServiceProcessTests
{
    private const string EchoCall = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"drained ok"}}}""";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SIGTERM_during_10_slow_calls_publishes_draining_completes_them_all_then_deregisters()
    {
        await using var cluster = await TestCluster.StartAsync(1, ("Node__Packs", "core,data"), ("Node__RequireClusterCredential", "false"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var node = await cluster.ProcessIdAsync("node-1");
        var calls = Enumerable.Range(0, 10).Select(i => SlowCallAsync(http, cluster.McpUrlOf("node-1"), i)).ToArray();
        await WaitForNodeAsync(http, cluster, node => node!["inFlight"]!.GetValue<int>() == 10, "10 calls in flight");

        await cluster.SignalAsync("node-1", "TERM");

        // Draining is published at once, while all ten calls are still running.
        await WaitForNodeAsync(http, cluster, node => node!["status"]!.GetValue<string>() == "draining", "status 'draining'");
        Assert.True(ProcessProbe.IsRunning(node), "The node exited with calls in flight.");
        var answers = await Task.WhenAll(calls);

        Assert.All(answers, answer => Assert.Equal(HttpStatusCode.OK, answer.Status));
        Assert.All(answers, answer => Assert.Contains("\"count\":1", answer.Body, StringComparison.Ordinal));
        Assert.Equal(0, await cluster.ExitCodeAsync("node-1", TimeSpan.FromSeconds(30)));
        await ClusterApiProbe.WaitForNodeCountAsync(http, cluster, count => count == 0, "no nodes once the node has stopped");
    }

    private static async Task<(HttpStatusCode Status, string Body)> SlowCallAsync(HttpClient http, Uri mcpUrl, int id)
    {
        var body = """{"jsonrpc":"2.0","id":ID,"method":"tools/call","params":{"name":"process_dataset","arguments":{"count":1,"delayMs":4000}}}"""
            .Replace("ID", id.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        using var request = new HttpRequestMessage(HttpMethod.Post, mcpUrl) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        using var response = await http.SendAsync(request, Cancel);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Cancel));
    }

    private static async Task WaitForNodeAsync(HttpClient http, TestCluster cluster, Func<JsonNode?, bool> condition, string description)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var nodes = JsonNode.Parse(await http.GetStringAsync(new Uri(cluster.CoordinatorUrl, "/api/nodes"), Cancel))!["nodes"]!.AsArray();
            if (nodes.Count == 1 && condition(nodes[0]))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The registry did not show {description} within 30 s.");
            await Task.Delay(100, Cancel);
        }
    }

    [Fact]
    public async Task The_shutdown_timeout_is_configurable_and_bounds_a_request_that_never_finishes()
    {
        await using var cluster = await TestCluster.StartAsync(1, ("Shutdown__Timeout", "00:00:01"), ("Node__RequireClusterCredential", "false"));
        using var call = await SlowUpload.StartAsync(cluster.McpUrlOf("node-1"));
        var clock = Stopwatch.StartNew();

        await cluster.SignalAsync("node-1", "TERM");
        await cluster.ExitCodeAsync("node-1", TimeSpan.FromSeconds(60));

        // Without the setting the node would wait the default 30 s for the body that never comes.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"The node took {clock.Elapsed.TotalSeconds:0.0} s to stop.");
    }

    [Fact]
    public async Task Json_console_logs_carry_the_trace_id_of_the_request()
    {
        // Spelled as Aspire spells it when it sets the simple format for the dashboard, so this value replaces
        // that one; a second spelling would be a second variable, and which one .NET reads would be left to chance.
        await using var cluster = await TestCluster.StartAsync(
            1, ("LOGGING__CONSOLE__FORMATTERNAME", "json"), ("Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics", "Information"));
        var trace = ActivityTraceId.CreateRandom().ToString();
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(cluster.UrlOf("node-1"), "/does-not-exist"));
        request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
        using (await http.SendAsync(request, Cancel))
        {
        }

        var deadline = DateTime.UtcNow.AddSeconds(15);
        string? line;
        while ((line = cluster.LinesOf("node-1").FirstOrDefault(text => text.Contains(trace, StringComparison.Ordinal))) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "No log line of the request's trace within 15 s.");
            await Task.Delay(100, Cancel);
        }

        using var json = JsonDocument.Parse(line[line.IndexOf('{', StringComparison.Ordinal)..]);
        var scopes = json.RootElement.GetProperty("Scopes").EnumerateArray();
        Assert.Contains(scopes, scope => scope.TryGetProperty("TraceId", out var id) && id.GetString() == trace);
        Assert.True(json.RootElement.TryGetProperty("Category", out _));
    }

    /// <summary>
    /// A tool call whose body is held back: the headers ask for <c>100 Continue</c>, which Kestrel sends
    /// only when the application starts reading the body, so once it arrives the request is in the
    /// application's hands.
    /// </summary>
    private sealed class SlowUpload : IDisposable
    {
        private readonly TcpClient _tcp;
        private readonly NetworkStream _stream;

        private SlowUpload(TcpClient tcp)
        {
            _tcp = tcp;
            _stream = tcp.GetStream();
        }

        public static async Task<SlowUpload> StartAsync(Uri mcpUrl)
        {
            var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, mcpUrl.Port, Cancel);
            var upload = new SlowUpload(tcp);
            var headers = $"POST {mcpUrl.AbsolutePath} HTTP/1.1\r\nHost: 127.0.0.1:{mcpUrl.Port}\r\nContent-Type: application/json\r\n" +
                $"Accept: application/json, text/event-stream\r\nContent-Length: {Encoding.UTF8.GetByteCount(EchoCall)}\r\nExpect: 100-continue\r\n\r\n";
            await upload._stream.WriteAsync(Encoding.ASCII.GetBytes(headers), Cancel);
            var interim = await upload.ReadUntilAsync("\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 100", interim, StringComparison.Ordinal);
            return upload;
        }

        /// <summary>Sends the body and returns the whole response (the server closes the connection as it shuts down).</summary>
        public async Task<string> FinishAsync()
        {
            await _stream.WriteAsync(Encoding.UTF8.GetBytes(EchoCall), Cancel);
            using var reader = new StreamReader(_stream, Encoding.UTF8, leaveOpen: true);
            return await reader.ReadToEndAsync(Cancel).WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        }

        private async Task<string> ReadUntilAsync(string terminator)
        {
            var text = new StringBuilder();
            var buffer = new byte[1];
            while (!text.ToString().EndsWith(terminator, StringComparison.Ordinal))
            {
                var read = await _stream.ReadAsync(buffer, Cancel).AsTask().WaitAsync(TimeSpan.FromSeconds(30), Cancel);
                Assert.True(read > 0, $"The connection closed after '{text}'.");
                text.Append((char)buffer[0]);
            }

            return text.ToString();
        }

        public void Dispose()
        {
            _stream.Dispose();
            _tcp.Dispose();
        }
    }
}
