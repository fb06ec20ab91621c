using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using McpAspire.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace McpAspire.IntegrationTests.Node;

/// <summary>
/// Hostile clients that misuse the connection rather than the message: huge and slow uploads, a stream
/// nobody reads, odd ids and arguments. Each gets its answer (or loses its connection), and the node goes
/// on serving everyone else. The cases about the message itself are in <see cref="BadInputs"/>.
/// </summary>
public sealed class HostileInputTests : IClassFixture<HostileInputTests.FloodingNode>, IDisposable
{
    private readonly ServiceHost<McpNode.NodeOptions> _node;
    private readonly FloodMeter _meter;
    private readonly HttpClient _http = new();

    public HostileInputTests(FloodingNode fixture)
    {
        _node = fixture.Host;
        _meter = fixture.Host.Services.GetRequiredService<FloodMeter>();
    }

    public void Dispose() => _http.Dispose();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public sealed class FloodingNode() : NodeFixture(services =>
    {
        services.AddSingleton<FloodMeter>();
        services.AddMcpServer().WithTools<FloodTools>();
    });

    [Fact]
    public async Task A_declared_100_MB_body_is_refused_before_any_of_it_is_sent()
    {
        using var socket = await ConnectAsync();
        await using var stream = new NetworkStream(socket);

        await WriteAsync(stream, Head("POST", "Content-Type: application/json", "Accept: application/json, text/event-stream", "Content-Length: 104857600"));
        var answer = await ReadSomeAsync(stream);

        Assert.StartsWith("HTTP/1.1 413", answer, StringComparison.Ordinal);
        Assert.Contains("exceeds the limit of 1048576 bytes", answer, StringComparison.Ordinal);
        Assert.Equal("still serving", await RawMcp.EchoAsync(_http, _node.McpUrl));
    }

    [Fact]
    public async Task A_chunked_100_MB_body_is_cut_off_near_the_cap_without_reading_the_rest()
    {
        var body = new EndlessBody(100 * 1024 * 1024);
        using var request = new HttpRequestMessage(HttpMethod.Post, _node.McpUrl) { Content = new StreamContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");

        try
        {
            using var response = await _http.SendAsync(request, Cancel);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }
        catch (HttpRequestException)
        {
            // The node closed the connection while the client was still sending: also a refusal.
        }

        // The cap is 1 MiB and the drain budget another; what else was sent sat in socket buffers.
        Assert.InRange(body.Produced, 1024 * 1024, 32 * 1024 * 1024);
        Assert.Equal("still serving", await RawMcp.EchoAsync(_http, _node.McpUrl));
    }

    [Fact]
    public async Task A_slowloris_upload_is_dropped_by_the_minimum_data_rate_while_others_are_served()
    {
        using var socket = await ConnectAsync();
        await using var stream = new NetworkStream(socket);
        await WriteAsync(stream, Head("POST", "Content-Type: application/json", "Accept: application/json, text/event-stream", "Content-Length: 100000") + "{");

        // One byte a second, far below Kestrel's 240 bytes/s; it gives up after its 5 s grace period.
        var dropped = false;
        var served = 0;
        for (var second = 0; second < 60 && !dropped; second++)
        {
            served += await RawMcp.EchoAsync(_http, _node.McpUrl) == "still serving" ? 1 : 0;
            await Task.Delay(1000, Cancel);
            dropped = !await TryWriteAsync(stream, " ") || (socket.Available > 0 && (await ReadSomeAsync(stream)).StartsWith("HTTP/1.1 408", StringComparison.Ordinal));
        }

        Assert.True(dropped, "The slow upload was still open after 60 s.");
        Assert.True(served > 0);
        Assert.Equal("still serving", await RawMcp.EchoAsync(_http, _node.McpUrl));
    }

    [Fact]
    public async Task A_client_that_never_reads_its_stream_fills_a_bounded_buffer_then_is_dropped_and_the_tool_stops()
    {
        const string Call = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"flood","arguments":{},"_meta":{"progressToken":"f"}}}""";
        using var socket = await ConnectAsync();
        socket.ReceiveBufferSize = 64 * 1024;
        await using var stream = new NetworkStream(socket);
        await WriteAsync(stream, Head("POST", "Content-Type: application/json", "Accept: application/json, text/event-stream", $"Content-Length: {Call.Length}") + Call);
        Assert.StartsWith("HTTP/1.1 200", await ReadSomeAsync(stream), StringComparison.Ordinal);

        // From here on the client reads nothing. Kestrel holds a bounded response buffer, the tool's awaited
        // sends stop when it is full, and after the minimum response data rate's grace period the connection goes.
        Assert.True(await _meter.Ended.WaitAsync(TimeSpan.FromSeconds(90), Cancel), "The flood tool was still running 90 s after its client stopped reading.");
        Assert.InRange(_meter.Bytes, FloodTools.NotificationBytes, 64L * 1024 * 1024);
        Assert.Equal("still serving", await RawMcp.EchoAsync(_http, _node.McpUrl));
    }

    [Theory]
    [InlineData("\"a-string-id\"")]
    [InlineData("\"\"")]
    [InlineData("\"ünï-cødé ✓\"")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("9223372036854775807")]
    [InlineData("-9223372036854775808")]
    [InlineData("HUGE")]
    public async Task Every_valid_id_comes_back_exactly(string id)
    {
        id = id == "HUGE" ? "\"" + new string('i', 200_000) + "\"" : id;

        using var response = await _http.SendAsync(RawMcp.Post(_node.McpUrl, """{"jsonrpc":"2.0","id":ID,"method":"ping"}""".Replace("ID", id, StringComparison.Ordinal)), Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var message = await RawMcp.ReadMessageAsync(response);
        Assert.Equal(JsonNode.Parse(id)!.ToJsonString(), message["id"]!.ToJsonString());
        Assert.NotNull(message["result"]);
    }

    [Theory]
    [InlineData("null", "'message' is required")]
    [InlineData("{}", "'message' is required")]
    [InlineData("{\"message\":DEEP}", "'message' must be a string, not an array")]
    [InlineData("{\"message\":\"hi\",\"message\":7}", "'message' must be a string, not a number")]
    public async Task Arguments_that_are_null_deep_or_repeated_get_a_tool_error_naming_the_problem(string arguments, string problem)
    {
        arguments = arguments.Replace("DEEP", new string('[', 50) + new string(']', 50), StringComparison.Ordinal);

        using var response = await _http.SendAsync(RawMcp.Post(_node.McpUrl, """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":ARGS}}""".Replace("ARGS", arguments, StringComparison.Ordinal)), Cancel);

        var result = (await RawMcp.ReadMessageAsync(response))["result"]!;
        Assert.True(result["isError"]!.GetValue<bool>());
        Assert.Contains(problem, result["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("still serving", await RawMcp.EchoAsync(_http, _node.McpUrl));
    }

    private async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, _node.BaseUrl.Port, Cancel);
        return socket;
    }

    private string Head(string method, params string[] headers) =>
        $"{method} /mcp HTTP/1.1\r\nHost: 127.0.0.1:{_node.BaseUrl.Port.ToString(CultureInfo.InvariantCulture)}\r\n{string.Concat(headers.Select(header => header + "\r\n"))}\r\n";

    private static Task WriteAsync(NetworkStream stream, string text) => stream.WriteAsync(Encoding.UTF8.GetBytes(text), Cancel).AsTask();

    private static async Task<bool> TryWriteAsync(NetworkStream stream, string text)
    {
        try
        {
            await WriteAsync(stream, text);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Reads what has arrived (at least one byte, unless the connection closed).</summary>
    private static async Task<string> ReadSomeAsync(NetworkStream stream)
    {
        var buffer = new byte[8192];
        var read = await stream.ReadAsync(buffer, Cancel);
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    /// <summary>An unseekable body (so it is sent chunked) that counts how much of it was read.</summary>
    private sealed class EndlessBody(long length) : Stream
    {
        private static readonly byte[] Start = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"pad":" """);
        private long _produced;

        public long Produced => Interlocked.Read(ref _produced);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var produced = Produced;
            var n = (int)Math.Min(count, length - produced);
            for (var i = 0; i < n; i++)
            {
                var at = produced + i;
                buffer[offset + i] = at < Start.Length ? Start[at] : (byte)'p';
            }

            Interlocked.Add(ref _produced, n);
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
