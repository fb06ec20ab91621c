using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using McpAspire.Bench;
using McpAspire.Cluster;
using StackExchange.Redis;

// The registry's own operations (a heartbeat's SET with its TTL, the node set's SADD and SMEMBERS, and the MGET
// of three heartbeats that a registry read makes) from 50 concurrent callers through StackExchange.Redis, set up as
// the services set it up, as a ratio to redis-benchmark -c 50 sending the same commands with the same payloads to the
// same server in the same run. Rounds alternate between the two so that machine noise hits both alike; the medians
// are compared.
var settings = BenchSettings.Parse(args);
var redisBenchmark = BenchRedisServer.Which("redis-benchmark") ?? throw new InvalidOperationException("redis-benchmark is not on PATH (apt-get install redis-tools).");
await using (var server = BenchRedisServer.Start(settings.Port))
{
    var port = server.Port;
    var options = ClusterStore.Configure(ConfigurationOptions.Parse($"127.0.0.1:{port}"));
    options.AbortOnConnectFail = true;
    options.ConnectRetry = 30;
    await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
    var database = redis.GetDatabase();
    var heartbeat = JsonSerializer.Serialize(SampleHeartbeat(), ClusterJson.Options);
    string[] readKeys = [ClusterKeys.Heartbeat("bench-1"), ClusterKeys.Heartbeat("bench-2"), ClusterKeys.Heartbeat("bench-3")];
    foreach (var key in readKeys)
    {
        await database.StringSetAsync(key, heartbeat);
        await database.SetAddAsync("mcpaspire:bench:nodes", key);
    }

    var tests = new (string Name, string[] Command, Func<int, Task> Ours)[]
    {
        ("heartbeat SET PX", ["SET", "mcpaspire:node:__rand_int__", heartbeat, "PX", "6000"],
            i => database.StringSetAsync($"mcpaspire:node:{i % 1000}", heartbeat, TimeSpan.FromMilliseconds(6000))),
        ("node set SADD", ["SADD", "mcpaspire:bench:set", "__rand_int__"],
            i => database.SetAddAsync("mcpaspire:bench:set", (i % 1000).ToString(CultureInfo.InvariantCulture))),
        ("registry SMEMBERS", ["SMEMBERS", "mcpaspire:bench:nodes"],
            _ => database.SetMembersAsync("mcpaspire:bench:nodes")),
        ("registry MGET x3", ["MGET", .. readKeys],
            _ => database.StringGetAsync([.. readKeys.Select(key => (RedisKey)key)])),
    };
    Console.WriteLine($"server 127.0.0.1:{port}, {settings.Requests} requests per test, {settings.Clients} concurrent callers, {settings.Rounds} rounds, heartbeat {heartbeat.Length} bytes");

    // Warm up the JIT, the thread pool and the connection.
    foreach (var test in tests)
    {
        await RunOursAsync(test.Ours, settings.Requests / 10, settings.Clients);
    }

    var results = tests.ToDictionary(test => test.Name, _ => (Reference: new List<double>(), Ours: new List<double>()));
    for (var round = 1; round <= settings.Rounds; round++)
    {
        foreach (var test in tests)
        {
            results[test.Name].Reference.Add(await RunReferenceAsync(redisBenchmark, port, settings, test.Command));
            results[test.Name].Ours.Add(await RunOursAsync(test.Ours, settings.Requests, settings.Clients));
        }

        Console.WriteLine($"round {round}: " + string.Join("  ", results.Select(r =>
            $"{r.Key}: redis-benchmark {r.Value.Reference[^1]:N0}/s StackExchange.Redis {r.Value.Ours[^1]:N0}/s")));
    }

    Console.WriteLine();
    Console.WriteLine("operation          redis-benchmark (median)  StackExchange.Redis (median)  ratio");
    foreach (var (test, (reference, ours)) in results)
    {
        Console.WriteLine($"{test,-18} {Median(reference),22:N0}/s  {Median(ours),26:N0}/s  {Median(ours) / Median(reference),5:0.00}");
    }
}

static NodeHeartbeat SampleHeartbeat() => new()
{
    Id = "bench-node",
    McpUrl = new Uri("http://127.0.0.1:5100/mcp"),
    Status = NodeStatus.Ready,
    MaxConcurrency = 64,
    Version = "0.1.0",
    Packs = ["core", "data"],
    ToolsHash = ToolCatalog.Of(
    [
        .. Enumerable.Range(1, 4).Select(i => new ModelContextProtocol.Protocol.Tool
        {
            Name = $"tool_{i}",
            Description = $"A sample tool number {i}, described in one sentence as tools are.",
            InputSchema = JsonDocument.Parse("""{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]}""").RootElement,
        }),
    ]).Hash,
    ToolCount = 4,
    SentAt = DateTimeOffset.UtcNow,
    TtlMilliseconds = 6000,
};

static async Task<double> RunOursAsync(Func<int, Task> operation, int requests, int clients)
{
    var perCaller = requests / clients;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clients).Select(caller => Task.Run(async () =>
    {
        for (var i = 0; i < perCaller; i++)
        {
            await operation((caller * perCaller) + i);
        }
    })));
    return perCaller * clients / clock.Elapsed.TotalSeconds;
}

static async Task<double> RunReferenceAsync(string redisBenchmark, int port, BenchSettings settings, string[] command)
{
    using var process = Process.Start(new ProcessStartInfo(redisBenchmark,
        ["-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-c", settings.Clients.ToString(CultureInfo.InvariantCulture),
         "-n", settings.Requests.ToString(CultureInfo.InvariantCulture), "-r", "1000", "--csv", .. command])
    {
        RedirectStandardOutput = true,
    })!;
    var output = await process.StandardOutput.ReadToEndAsync();
    await process.WaitForExitAsync();
    foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
    {
        // "test","rps","avg_latency_ms",... and six latency columns; the test's name is the command, which may hold quotes.
        var fields = line.Split("\",\"").Select(field => field.Trim('"')).ToArray();
        if (fields.Length >= 8 && double.TryParse(fields[^7], NumberStyles.Float, CultureInfo.InvariantCulture, out var rate))
        {
            return rate;
        }
    }

    throw new InvalidOperationException($"Could not read redis-benchmark's output:\n{output}");
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

/// <summary>Command-line settings: <c>--port P</c> (an existing server; default: start redis-server), <c>--requests N</c>, <c>--clients C</c>, <c>--rounds R</c>.</summary>
internal sealed record BenchSettings(int Port, int Requests, int Clients, int Rounds)
{
    public static BenchSettings Parse(string[] args)
    {
        var settings = new BenchSettings(0, 100_000, 50, 3);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var number = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            settings = args[i] switch
            {
                "--port" => settings with { Port = number },
                "--requests" => settings with { Requests = number },
                "--clients" => settings with { Clients = number },
                "--rounds" => settings with { Rounds = number },
                var other => throw new ArgumentException($"Unknown option {other}; use --port, --requests, --clients or --rounds."),
            };
        }

        return settings;
    }
}
