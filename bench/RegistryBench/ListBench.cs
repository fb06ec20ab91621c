using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using McpAspire.Bench;
using McpAspire.Cluster.Security;
using StackExchange.Redis;

namespace McpAspire.RegistryBench;

/// <summary>
/// <c>tools/list</c> at scale (<c>--measure list</c>): two real coordinator processes, one following a cluster of
/// 100 tools (5 nodes of 20) and one following <c>--nodes</c> nodes of <c>--tools</c> distinct tools each (10,000 by
/// default), each cluster in a database of its own on one store, its simulated nodes heartbeating as in the registry
/// benchmark. Closed-loop callers ask for a page; rounds alternate between the small cluster's page, the large
/// cluster's first page and a page from the middle of its list (by cursor). Each coordinator's CPU time and
/// allocations per request are read from the process, and the large cluster's are compared with the small one's.
/// </summary>
internal static class ListBench
{
    private const int SmallNodes = 5;
    private const int Callers = 16;

    public static async Task<int> RunAsync(BenchSettings settings)
    {
        await using var server = BenchRedisServer.Start(settings.Port);
        var key = RandomNumberGenerator.GetBytes(32);
        Console.WriteLine($"tools/list: {SmallNodes * settings.Tools} tools ({SmallNodes} nodes) against {settings.Nodes * settings.Tools} tools ({settings.Nodes} nodes), {Callers} callers, {settings.Seconds} s per run, {settings.Rounds} rounds");
        await using var small = await ListedCluster.StartAsync("small", server.Port, database: 1, SmallNodes, settings.Tools, key);
        await using var large = await ListedCluster.StartAsync("large", server.Port, database: 2, settings.Nodes, settings.Tools, key);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Callers, UseCookies = false });
        var middle = await large.CursorOfPageAsync(http, large.Pages / 2);
        (string Name, ListedCluster Cluster, string Request)[] targets =
        [
            ("small", small, Request(null)),
            ("large", large, Request(null)),
            ("large, page by cursor", large, Request(middle)),
        ];
        Console.WriteLine($"{small.Name}: {small.Tools} tools in {small.Pages} page(s); {large.Name}: {large.Tools} tools in {large.Pages} pages");

        foreach (var (_, cluster, request) in targets)
        {
            // Past the first requests and the JIT's tiering up, which takes a new process about half a minute.
            await LoadAsync(http, cluster.McpUrl, request, TimeSpan.FromSeconds(30));
        }

        var costs = targets.ToDictionary(target => target.Name, _ => new List<(double CpuMicros, double Bytes, double PerSecond)>());
        for (var round = 1; round <= settings.Rounds; round++)
        {
            foreach (var (name, cluster, request) in targets)
            {
                var allocatedBefore = await cluster.Probe.AllocatedAsync();
                var cpuBefore = cluster.Probe.Cpu();
                var clock = Stopwatch.StartNew();
                var requests = await LoadAsync(http, cluster.McpUrl, request, TimeSpan.FromSeconds(settings.Seconds));
                var seconds = clock.Elapsed.TotalSeconds;
                var cpu = (cluster.Probe.Cpu() - cpuBefore).TotalMicroseconds / requests;
                var bytes = (await cluster.Probe.AllocatedAsync() - allocatedBefore) / requests;
                costs[name].Add((cpu, bytes, requests / seconds));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round} {name,-22}: {requests / seconds,8:N0} requests/s  coordinator {cpu,6:0} µs {bytes / 1024,6:0.0} KB per request"));
            }
        }

        Console.WriteLine();
        Console.WriteLine("page                     requests/s  coordinator CPU µs  allocated KB  (per request, medians)");
        foreach (var (name, _, _) in targets)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-22}  {Median(costs[name], c => c.PerSecond),10:N0}  {Median(costs[name], c => c.CpuMicros),18:0}  {Median(costs[name], c => c.Bytes) / 1024,12:0.0}"));
        }

        var reference = Median(costs["small"], c => c.CpuMicros);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"CPU per request over the 100-tool page: large first page {Median(costs["large"], c => c.CpuMicros) / reference:0.00}x, large page by cursor {Median(costs["large, page by cursor"], c => c.CpuMicros) / reference:0.00}x"));
        return 0;
    }

    private static string Request(string? cursor) => cursor is null
        ? """{"jsonrpc":"2.0","id":1,"method":"tools/list"}"""
        : $$$"""{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"{{{cursor}}}"}}""";

    /// <summary>Sends <paramref name="request"/> from <see cref="Callers"/> callers, each waiting for its answer, for <paramref name="duration"/>; the number answered.</summary>
    private static async Task<long> LoadAsync(HttpClient http, Uri url, string request, TimeSpan duration)
    {
        long answered = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => Task.Run(async () =>
        {
            while (clock.Elapsed < duration)
            {
                var page = await PostAsync(http, url, request);
                if (!page.Contains("\"tools\":[{", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"tools/list did not answer a page: {page[..Math.Min(page.Length, 300)]}");
                }

                Interlocked.Increment(ref answered);
            }
        })));
        return answered;
    }

    private static async Task<string> PostAsync(HttpClient http, Uri url, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        using var response = await http.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }

    private static double Median<T>(List<T> values, Func<T, double> by) => values.Select(by).Order().ElementAt(values.Count / 2);

    /// <summary>A simulated cluster in one database of the store, and a coordinator process that follows it.</summary>
    private sealed class ListedCluster : IAsyncDisposable
    {
        private readonly ConnectionMultiplexer _redis;
        private readonly CancellationTokenSource _stopHeartbeats;
        private readonly Task _heartbeats;
        private readonly Process _coordinator;

        private ListedCluster(string name, ConnectionMultiplexer redis, CancellationTokenSource stopHeartbeats, Task heartbeats, Process coordinator, Uri mcpUrl, int tools)
        {
            Name = name;
            _redis = redis;
            _stopHeartbeats = stopHeartbeats;
            _heartbeats = heartbeats;
            _coordinator = coordinator;
            McpUrl = mcpUrl;
            Tools = tools;
        }

        public string Name { get; }

        public Uri McpUrl { get; }

        public int Tools { get; }

        public int Pages { get; private set; }

        /// <summary>The coordinator's CPU time and allocations, once it serves (before that it may not take a diagnostics session).</summary>
        public ProcessProbe Probe { get; private set; } = null!;

        public static async Task<ListedCluster> StartAsync(string name, int port, int database, int nodes, int toolsPerNode, byte[] key)
        {
            var store = $"127.0.0.1:{port},defaultDatabase={database}";
            var redis = await ConnectionMultiplexer.ConnectAsync(store);
            var simulated = new Simulation.SimulatedNodes(Designs.Current, redis, new ClusterKeyRing([key]), toolsPerNode);
            var ids = Enumerable.Range(0, nodes).Select(i => $"{name}-node-{i:D4}").ToArray();
            foreach (var id in ids)
            {
                // A service of its own per node: every node's tools are distinct.
                await simulated.WriteAsync(id, id.Replace('-', '_'));
            }

            var stop = new CancellationTokenSource();
            var heartbeats = simulated.HeartbeatAsync(ids, stop.Token);
            var httpPort = BenchRedisServer.FreePort();
            var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "McpAspire.McpCoordinator.dll")]) { RedirectStandardOutput = true, RedirectStandardError = true };
            start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{httpPort}";
            start.Environment["ConnectionStrings__redis"] = store;
            start.Environment["Cluster__Key"] = Convert.ToBase64String(key);
            start.Environment["Logging__LogLevel__Default"] = "Warning";
            var coordinator = Process.Start(start)!;
            coordinator.OutputDataReceived += (_, _) => { };
            coordinator.ErrorDataReceived += (_, _) => { };
            coordinator.BeginOutputReadLine();
            coordinator.BeginErrorReadLine();
            var cluster = new ListedCluster(name, redis, stop, heartbeats, coordinator, new Uri($"http://127.0.0.1:{httpPort}/mcp"), nodes * toolsPerNode);
            try
            {
                await cluster.WaitForAllToolsAsync();
                cluster.Probe = ProcessProbe.Of(name, coordinator.Id);
                return cluster;
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }
        }

        /// <summary>The cursor of page <paramref name="page"/> (1 is the second page), walking the list from the start.</summary>
        public async Task<string> CursorOfPageAsync(HttpClient http, int page)
        {
            string? cursor = null;
            for (var i = 0; i < page; i++)
            {
                cursor = (await PageAsync(http, cursor)).Next ?? throw new InvalidOperationException($"The list of {Name} ends before page {page}.");
            }

            return cursor!;
        }

        private async Task<(int Count, string? Next)> PageAsync(HttpClient http, string? cursor)
        {
            var answer = JsonNode.Parse(await PostAsync(http, McpUrl, Request(cursor)))!;
            var result = answer["result"] ?? throw new InvalidOperationException($"tools/list failed: {answer.ToJsonString()}");
            return (result["tools"]!.AsArray().Count, result["nextCursor"]?.GetValue<string>());
        }

        /// <summary>Waits until the coordinator answers and lists every tool of the cluster, walking all the pages.</summary>
        private async Task WaitForAllToolsAsync()
        {
            using var http = new HttpClient();
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    var (listed, pages, cursor) = (0, 0, (string?)null);
                    do
                    {
                        var (count, next) = await PageAsync(http, cursor);
                        (listed, pages, cursor) = (listed + count, pages + 1, next);
                    }
                    while (cursor is not null);

                    if (listed == Tools)
                    {
                        Pages = pages;
                        return;
                    }
                }
                catch (HttpRequestException) when (!_coordinator.HasExited)
                {
                    // Not listening yet.
                }

                if (_coordinator.HasExited || deadline.Elapsed > TimeSpan.FromMinutes(3))
                {
                    throw new InvalidOperationException($"The {Name} coordinator did not list all {Tools} tools within 3 minutes (exited: {_coordinator.HasExited}).");
                }

                await Task.Delay(500);
            }
        }

        public async ValueTask DisposeAsync()
        {
            _coordinator.Kill();
            await _coordinator.WaitForExitAsync();
            _coordinator.Dispose();
            await _stopHeartbeats.CancelAsync();
            await _heartbeats;
            _stopHeartbeats.Dispose();
            await _redis.DisposeAsync();
        }
    }
}
