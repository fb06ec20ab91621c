using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using McpAspire.Bench;
using McpAspire.Cluster;
using McpAspire.Cluster.Security;
using ModelContextProtocol.Protocol;
using StackExchange.Redis;

namespace McpAspire.RegistryBench;

/// <summary>
/// The simulated cluster: nodes in services of 50 replicas each (replicas of one service share their tools, as they do
/// in a real cluster), each heartbeating every 2 s with a 6 s TTL, written as its design writes them; two coordinator
/// replicas (<see cref="Replica"/>) following the store; then new nodes of new services joining one at a time.
/// </summary>
internal static class Simulation
{
    private const int ReplicasPerService = 50;
    private static readonly int MaxNodes = new McpAspire.McpCoordinator.Registry.RegistryOptions().MaxNodes;
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan HeartbeatTtl = TimeSpan.FromSeconds(6);

    public static async Task<int> RunAsync(BenchSettings settings)
    {
        if (settings.Nodes >= MaxNodes)
        {
            // Each join adds a node: past the registry's cap it would be rejected, and never routable.
            await Console.Error.WriteLineAsync($"--nodes must be below {MaxNodes}, the most nodes a coordinator follows by default (Coordinator:Registry:MaxNodes), since each join adds one.");
            return 2;
        }

        await using var server = BenchRedisServer.Start(settings.Port);
        var store = $"127.0.0.1:{server.Port},allowAdmin=true";
        var options = ConfigurationOptions.Parse(store);
        options.ConnectRetry = 30;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
        var key = RandomNumberGenerator.GetBytes(32);
        Console.WriteLine($"store 127.0.0.1:{server.Port}, {settings.Nodes} nodes x {settings.Tools} tools in services of {ReplicasPerService}, 2 coordinator replicas, {settings.Seconds} s steady state, {settings.Joins} joins, {settings.Rounds} round(s)");
        var results = settings.Designs.ToDictionary(design => design, _ => new List<Outcome>());
        for (var round = 1; round <= settings.Rounds; round++)
        {
            foreach (var design in settings.Designs)
            {
                await redis.GetServer(redis.GetEndPoints()[0]).FlushDatabaseAsync();
                var outcome = await RunDesignAsync(design, redis, store, key, settings);
                results[design].Add(outcome);
                Console.WriteLine($"round {round} {design,-7}: {outcome}");
            }
        }

        Report(results);
        return 0;
    }

    private static async Task<Outcome> RunDesignAsync(string design, ConnectionMultiplexer redis, string store, byte[] key, BenchSettings settings)
    {
        var nodes = new SimulatedNodes(design, redis, new ClusterKeyRing([key]), settings.Tools);
        var ids = Enumerable.Range(0, settings.Nodes).Select(i => $"node-{i:D4}").ToArray();
        foreach (var id in ids)
        {
            await nodes.WriteAsync(id, $"svc{Array.IndexOf(ids, id) / ReplicasPerService}");
        }

        using var stopWriting = new CancellationTokenSource();
        var writing = nodes.HeartbeatAsync(ids, stopWriting.Token);
        var replicas = new[] { ReplicaProcess.Start(design, store, key, settings.Nodes), ReplicaProcess.Start(design, store, key, settings.Nodes) };
        try
        {
            foreach (var replica in replicas)
            {
                await replica.ExpectAsync("ready", TimeSpan.FromMinutes(3));
            }

            // Past the first reads, the tool definitions' first parse and the JIT's tiering up, which takes a new process
            // about half a minute of its own CPU.
            await Task.Delay(TimeSpan.FromSeconds(30));
            foreach (var replica in replicas)
            {
                await replica.SendAsync("mark");
            }

            await Task.Delay(TimeSpan.FromSeconds(settings.Seconds));
            var reports = new List<string[]>();
            foreach (var replica in replicas)
            {
                await replica.SendAsync("report");
                reports.Add((await replica.ExpectAsync("report", TimeSpan.FromSeconds(30))).Split(' '));
            }

            var joins = new List<double>();
            for (var k = 0; k < settings.Joins; k++)
            {
                var probe = $"join{k}_tool0";
                foreach (var replica in replicas)
                {
                    await replica.SendAsync($"watch {probe}");
                }

                var id = $"joiner-{k:D3}";
                var written = Stopwatch.GetTimestamp();
                await nodes.WriteAsync(id, $"join{k}");
                await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(ClusterKeys.EventsChannel), JsonSerializer.SerializeToUtf8Bytes(new RegistryEvent(RegistryEvent.Joined, id), ClusterJson.Options));
                foreach (var replica in replicas)
                {
                    var seen = long.Parse((await replica.ExpectAsync($"seen {probe}", TimeSpan.FromSeconds(30))).Split(' ')[^1], CultureInfo.InvariantCulture);
                    joins.Add(Stopwatch.GetElapsedTime(written, seen).TotalMilliseconds);
                }

                await nodes.RemoveAsync(id);
            }

            return new Outcome(
                [.. reports.Select(report => double.Parse(report[1], CultureInfo.InvariantCulture))],
                [.. reports.Select(report => double.Parse(report[2], CultureInfo.InvariantCulture))],
                [.. reports.Select(report => double.Parse(report[3], CultureInfo.InvariantCulture))],
                [.. reports.Select(report => double.Parse(report[4], CultureInfo.InvariantCulture))],
                Percentile(joins, 0.5),
                Percentile(joins, 0.99));
        }
        finally
        {
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }

            await stopWriting.CancelAsync();
            await writing;
        }
    }

    /// <summary>Each figure is the mean of the two replicas in a round, then the median over the rounds.</summary>
    private static void Report(Dictionary<string, List<Outcome>> results)
    {
        Console.WriteLine();
        Console.WriteLine("design   CPU ms/s per replica   read KB/s per replica   managed MB   working set MB   join p50 ms   join p99 ms");
        foreach (var (design, outcomes) in results)
        {
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{design,-8} {Figure(outcomes, o => o.CpuMsPerSecond),20:0.0}   {Figure(outcomes, o => o.BytesPerSecond) / 1024,21:0.0}   {Figure(outcomes, o => o.ManagedMegabytes),10:0.0}   {Figure(outcomes, o => o.WorkingSetMegabytes),14:0.0}   {Median(outcomes.Select(o => o.JoinP50)),11:0.0}   {Median(outcomes.Select(o => o.JoinP99)),11:0.0}"));
        }

        if (!results.TryGetValue(Designs.Legacy, out var legacy) || !results.TryGetValue(Designs.Current, out var current))
        {
            return;
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"legacy over current: CPU {Figure(legacy, o => o.CpuMsPerSecond) / Figure(current, o => o.CpuMsPerSecond):0.0}x, bytes read {Figure(legacy, o => o.BytesPerSecond) / Math.Max(1, Figure(current, o => o.BytesPerSecond)):0.0}x, managed memory {Figure(legacy, o => o.ManagedMegabytes) / Figure(current, o => o.ManagedMegabytes):0.0}x, working set {Figure(legacy, o => o.WorkingSetMegabytes) / Figure(current, o => o.WorkingSetMegabytes):0.0}x"));
    }

    private static double Figure(List<Outcome> outcomes, Func<Outcome, double[]> perReplica) => Median(outcomes.Select(outcome => perReplica(outcome).Average()));

    private static double Median(IEnumerable<double> values) => Percentile([.. values], 0.5);

    private static double Percentile(List<double> values, double quantile)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(quantile * sorted.Length) - 1)];
    }

    /// <summary>One design's figures: per replica, and the joins of both.</summary>
    private sealed record Outcome(double[] CpuMsPerSecond, double[] BytesPerSecond, double[] ManagedMegabytes, double[] WorkingSetMegabytes, double JoinP50, double JoinP99)
    {
        public override string ToString() => string.Create(
            CultureInfo.InvariantCulture,
            $"CPU {string.Join(" / ", CpuMsPerSecond.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture)))} ms/s, read {string.Join(" / ", BytesPerSecond.Select(v => (v / 1024).ToString("0.0", CultureInfo.InvariantCulture)))} KB/s, managed {string.Join(" / ", ManagedMegabytes.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture)))} MB, join p50 {JoinP50:0.0} ms p99 {JoinP99:0.0} ms");
    }

    /// <summary>The simulated nodes' records, written as nodes of <paramref name="design"/> write them.</summary>
    internal sealed class SimulatedNodes(string design, IConnectionMultiplexer redis, ClusterKeyRing keys, int toolsPerNode)
    {
        private readonly Dictionary<string, (string Service, ToolCatalog Catalog)> _nodes = new(StringComparer.Ordinal);
        private readonly Dictionary<string, ToolCatalog> _services = new(StringComparer.Ordinal);

        public async Task WriteAsync(string id, string service)
        {
            if (!_services.TryGetValue(service, out var catalog))
            {
                catalog = ToolCatalog.Of([.. Enumerable.Range(0, toolsPerNode).Select(j => SampleTool($"{service}_tool{j}"))]);
                _services[service] = catalog;
            }

            _nodes[id] = (service, catalog);
            var database = redis.GetDatabase();
            if (design == Designs.Current)
            {
                await database.StringSetAsync(ClusterKeys.Tools(catalog.Hash), catalog.Json, HeartbeatTtl * 10);
            }

            await database.StringSetAsync(ClusterKeys.Heartbeat(id), Record(id), HeartbeatTtl);
            await database.SetAddAsync(ClusterKeys.NodeSet, id);
        }

        public async Task RemoveAsync(string id)
        {
            _nodes.Remove(id);
            var database = redis.GetDatabase();
            await database.KeyDeleteAsync(ClusterKeys.Heartbeat(id));
            await database.SetRemoveAsync(ClusterKeys.NodeSet, id);
            await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(ClusterKeys.EventsChannel), JsonSerializer.SerializeToUtf8Bytes(new RegistryEvent(RegistryEvent.Left, id), ClusterJson.Options));
        }

        /// <summary>Every node heartbeats once per interval, spread evenly over it, as independent nodes do.</summary>
        public async Task HeartbeatAsync(string[] ids, CancellationToken cancellationToken)
        {
            const int Slices = 20;
            using var timer = new PeriodicTimer(HeartbeatInterval / Slices);
            var slice = 0;
            try
            {
                while (await timer.WaitForNextTickAsync(cancellationToken))
                {
                    var database = redis.GetDatabase();
                    var batch = new List<Task>();
                    for (var i = slice; i < ids.Length; i += Slices)
                    {
                        batch.Add(database.StringSetAsync(ClusterKeys.Heartbeat(ids[i]), Record(ids[i]), HeartbeatTtl));
                        if (design == Designs.Current)
                        {
                            batch.Add(database.KeyExpireAsync(ClusterKeys.Tools(_nodes[ids[i]].Catalog.Hash), HeartbeatTtl * 10));
                        }
                    }

                    await Task.WhenAll(batch);
                    slice = (slice + 1) % Slices;
                }
            }
            catch (OperationCanceledException)
            {
                // The design's run is over.
            }
        }

        private byte[] Record(string id)
        {
            var (_, catalog) = _nodes[id];
#pragma warning disable CA5394 // A simulated load needs no cryptographic randomness.
            var inFlight = Random.Shared.Next(0, 64);
#pragma warning restore CA5394
            var url = new Uri($"http://127.0.0.1:{20000 + (Math.Abs(id.GetHashCode(StringComparison.Ordinal)) % 40000)}/mcp");
            if (design == Designs.Current)
            {
                return HeartbeatRecord.Write(
                    new NodeHeartbeat
                    {
                        Id = id,
                        McpUrl = url,
                        Status = NodeStatus.Ready,
                        InFlight = inFlight,
                        MaxConcurrency = 64,
                        Version = "1.0.0",
                        Packs = ["core"],
                        ToolsHash = catalog.Hash,
                        ToolCount = catalog.Count,
                        SentAt = DateTimeOffset.UtcNow,
                        TtlMilliseconds = (long)HeartbeatTtl.TotalMilliseconds,
                    },
                    keys);
            }

            return JsonSerializer.SerializeToUtf8Bytes(
                new LegacyHeartbeat
                {
                    Id = id,
                    McpUrl = url,
                    Status = NodeStatus.Ready,
                    InFlight = inFlight,
                    MaxConcurrency = 64,
                    Version = "1.0.0",
                    Packs = ["core"],
                    Tools = JsonSerializer.Deserialize<Tool[]>(catalog.Json.Span, ClusterJson.Options)!,
                    SentAt = DateTimeOffset.UtcNow,
                    TtlMilliseconds = (long)HeartbeatTtl.TotalMilliseconds,
                },
                ClusterJson.Options);
        }

        /// <summary>A tool as tools are: a sentence of description, three described parameters, annotations.</summary>
        private static Tool SampleTool(string name) => new()
        {
            Name = name,
            Description = $"Does the work {name} names, for one record at a time, and reports its progress.",
            InputSchema = JsonDocument.Parse("""
                {"type":"object","properties":{
                  "id":{"type":"string","description":"The record to work on."},
                  "limit":{"type":"integer","minimum":1,"maximum":1000,"description":"The most items to return."},
                  "mode":{"type":"string","enum":["fast","thorough"],"description":"How hard to look."}},
                 "required":["id"],"additionalProperties":false}
                """).RootElement,
            Annotations = new ToolAnnotations { ReadOnlyHint = true, OpenWorldHint = false },
        };
    }

    /// <summary>A coordinator replica process, and its lines of output.</summary>
    private sealed class ReplicaProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

        private ReplicaProcess(Process process)
        {
            _process = process;
            _ = Task.Run(async () =>
            {
                while (await process.StandardOutput.ReadLineAsync() is { } line)
                {
                    await _lines.Writer.WriteAsync(line);
                }

                _lines.Writer.TryComplete();
            });
        }

        public static ReplicaProcess Start(string design, string store, byte[] key, int nodes)
        {
            var entry = Environment.ProcessPath!;
            string[] arguments = ["--coordinator", design, "--store", store, "--key", Convert.ToBase64String(key), "--nodes", nodes.ToString(CultureInfo.InvariantCulture)];
            var start = Path.GetFileNameWithoutExtension(entry) == "dotnet"
                ? new ProcessStartInfo(entry, [typeof(Simulation).Assembly.Location, .. arguments])
                : new ProcessStartInfo(entry, arguments);
            start.RedirectStandardInput = true;
            start.RedirectStandardOutput = true;
            return new ReplicaProcess(Process.Start(start)!);
        }

        public async Task SendAsync(string command)
        {
            await _process.StandardInput.WriteLineAsync(command);
            await _process.StandardInput.FlushAsync();
        }

        /// <summary>The next line that starts with <paramref name="prefix"/>.</summary>
        /// <exception cref="TimeoutException">No such line came within <paramref name="timeout"/>.</exception>
        public async Task<string> ExpectAsync(string prefix, TimeSpan timeout)
        {
            using var deadline = new CancellationTokenSource(timeout);
            try
            {
                while (true)
                {
                    var line = await _lines.Reader.ReadAsync(deadline.Token);
                    if (line.StartsWith(prefix, StringComparison.Ordinal))
                    {
                        return line;
                    }
                }
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                throw new TimeoutException($"A replica did not answer '{prefix}' within {timeout.TotalSeconds:0} s.");
            }
        }

        public async ValueTask DisposeAsync()
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(10_000))
            {
                _process.Kill();
            }

            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }
}
