using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpAspire.Bench;
using McpAspire.McpNode;

// echo through a node (stateless POST tools/call, the real node pipeline) against a raw ASP.NET Core
// minimal-API JSON echo, each a process of its own, in the same run. Rounds alternate between the two so machine noise
// hits both; medians are compared, with each process's CPU time and allocations per call. Throughput and latency under
// full load come from closed-loop callers; the latency one call adds comes from a steady open-loop rate (--rate) well
// below capacity. With --target gateway, it compares echo sent to the node directly with echo through YARP's forwarder
// (bare, and with this solution's service defaults) and through the coordinator, all real processes; --auth jwt adds a coordinator that requires tokens, sent one with
// every call. With --target warmup, it starts a cold cluster of three nodes again and again and follows each from its
// first call to steady state, as built and with --env settings. With --soak S, it drives a separate node process at a
// steady rate for S seconds and reports its working set over time.
if (args is [ChildServer.ServeOption, var kind, .. var rest])
{
    await (kind switch
    {
        "raw" => ChildServer.ServeAsync(Servers.Raw(), "/echo"),
        "node" => ChildServer.ServeAsync(Servers.Node(), "/mcp"),
        "yarp" when rest is [var upstream] => YarpProxy.ServeAsync(new Uri(upstream), serviceDefaults: false),
        "yarp-defaults" when rest is [var upstream] => YarpProxy.ServeAsync(new Uri(upstream), serviceDefaults: true),
        _ => throw new ArgumentException($"{ChildServer.ServeOption} takes raw, node, or yarp or yarp-defaults and the node's URL."),
    });
    return;
}

var settings = EchoSettings.Parse(args);
if (settings.SoakSeconds > 0)
{
    await Soak.RunAsync(settings);
    return;
}

if (settings.Target == "warmup")
{
    await Warmup.RunAsync(settings);
    return;
}

if (settings.Target == "gateway")
{
    await using var gateway = await Gateway.StartAsync(settings.Nodes, settings.Auth, []);
    await using var proxy = await ChildServer.StartAsync("yarp", gateway.NodeUrl.ToString());
    await using var proxyWithDefaults = await ChildServer.StartAsync("yarp-defaults", gateway.NodeUrl.ToString());
    List<BenchTarget> targets =
    [
        new("direct", gateway.NodeUrl, settings.Call),
        new("yarp", proxy.Url, settings.Call),
        new("yarp+defaults", proxyWithDefaults.Url, settings.Call),
        new("gateway", gateway.CoordinatorMcpUrl, settings.Call),
    ];
    if (gateway.Tokens is { } tokens)
    {
        targets.Add(new("gateway+auth", gateway.AuthCoordinatorMcpUrl, settings.Call.WithBearer(tokens.Mint())));
    }

    await Compare.RunAsync(settings, targets, await gateway.ProbesAsync(proxy, proxyWithDefaults));
    return;
}

await using var raw = await ChildServer.StartAsync("raw");
await using var node = await ChildServer.StartAsync("node");
await Compare.RunAsync(settings, [new("raw", raw.Url, settings.Call), new("node", node.Url, settings.Call)],
    [ProcessProbe.Of("raw", raw.ProcessId), ProcessProbe.Of("node", node.ProcessId), ProcessProbe.CpuOf("load", Environment.ProcessId)]);

/// <summary>Command-line settings.</summary>
internal sealed record EchoSettings(int? ConcurrencyGiven, int? SecondsGiven, int WarmupSeconds, int Rounds, int SoakSeconds, int Rate, string Target, string? Protocol = null, bool Auth = false, int? NodesGiven = null)
{
    /// <summary>Closed-loop callers: 32, or 16 for <c>--target warmup</c>, as the cold cluster was first measured.</summary>
    public int Concurrency => ConcurrencyGiven ?? (Target == "warmup" ? 16 : 32);

    /// <summary>Seconds per run: 10, or 90 per cold start for <c>--target warmup</c>, long enough to reach steady state.</summary>
    public int Seconds => SecondsGiven ?? (Target == "warmup" ? 90 : 10);

    /// <summary>The cluster's nodes: 1 for <c>--target gateway</c>, 3 (the AppHost's default) for <c>--target warmup</c>.</summary>
    public int Nodes => NodesGiven ?? (Target == "warmup" ? 3 : 1);

    /// <summary>With <c>--target warmup</c>, environment variables set on every service in the second set of cold starts.</summary>
    public IReadOnlyList<(string Name, string Value)> Environment { get; init; } = [];

    /// <summary>The call every caller sends: a 2025 one without a version header, or one of <see cref="Protocol"/>.</summary>
    public EchoCall Call => EchoCall.For(Protocol);

    public static EchoSettings Parse(string[] args)
    {
        var settings = new EchoSettings(null, null, 3, 3, 0, 500, "node");
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (args[i] == "--protocol")
            {
                settings = args[i + 1] is "2025-11-25" or "2026-07-28"
                    ? settings with { Protocol = args[i + 1] }
                    : throw new ArgumentException($"--protocol is 2025-11-25 or 2026-07-28 (routed on its Mcp-Name header), not '{args[i + 1]}'.");
                continue;
            }

            if (args[i] == "--auth")
            {
                settings = args[i + 1] == "jwt"
                    ? settings with { Auth = true }
                    : throw new ArgumentException($"--auth is jwt (a further coordinator that requires JWT bearer tokens), not '{args[i + 1]}'.");
                continue;
            }

            if (args[i] == "--target")
            {
                settings = args[i + 1] is "node" or "gateway" or "warmup"
                    ? settings with { Target = args[i + 1] }
                    : throw new ArgumentException($"--target is node (a node against a raw echo), gateway (the coordinator against a node) or warmup (a cold cluster until steady state), not '{args[i + 1]}'.");
                continue;
            }

            if (args[i] == "--env")
            {
                settings = args[i + 1].Split('=', 2) is [{ Length: > 0 } name, var value]
                    ? settings with { Environment = [.. settings.Environment, (name, value)] }
                    : throw new ArgumentException($"--env takes NAME=VALUE, not '{args[i + 1]}'.");
                continue;
            }

            var number = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            settings = args[i] switch
            {
                "--concurrency" => settings with { ConcurrencyGiven = number },
                "--seconds" => settings with { SecondsGiven = number },
                "--warmup" => settings with { WarmupSeconds = number },
                "--rounds" => settings with { Rounds = number },
                "--soak" => settings with { SoakSeconds = number },
                "--rate" => settings with { Rate = number },
                "--nodes" => settings with { NodesGiven = number },
                var other => throw new ArgumentException($"Unknown option {other}; use --target, --protocol, --auth, --env, --nodes, --concurrency, --seconds, --warmup, --rounds, --soak or --rate."),
            };
        }

        return settings;
    }
}

/// <summary>Runs the load on a reference and its subjects in alternating rounds and prints their medians and ratios.</summary>
internal static class Compare
{
    /// <summary>Measures every target; the first is the reference the others are compared with.</summary>
    public static async Task RunAsync(EchoSettings settings, IReadOnlyList<BenchTarget> targets, IReadOnlyList<ProcessProbe> probes)
    {
        Console.WriteLine($"{settings.Concurrency} concurrent callers, {settings.Seconds} s per run, {settings.Rounds} rounds, after a {settings.WarmupSeconds} s warm-up each; protocol {settings.Protocol ?? "2025-03-26 (no version header)"}");
        var results = targets.ToDictionary(target => target.Name, _ => new List<LoadResult>());
        var costs = targets.ToDictionary(target => target.Name, _ => probes.ToDictionary(probe => probe.Name, _ => new List<CallCost>()));
        foreach (var (_, url, call) in targets)
        {
            await Load.RunAsync(url, call, settings.Concurrency, TimeSpan.FromSeconds(settings.WarmupSeconds));
        }

        for (var round = 1; round <= settings.Rounds; round++)
        {
            foreach (var (name, url, call) in targets)
            {
                var allocatedBefore = await AllocatedAsync(probes);
                var cpuBefore = probes.Select(probe => probe.Cpu()).ToArray();
                var result = await Load.RunAsync(url, call, settings.Concurrency, TimeSpan.FromSeconds(settings.Seconds));
                var cpuAfter = probes.Select(probe => probe.Cpu()).ToArray();
                var allocatedAfter = await AllocatedAsync(probes);
                results[name].Add(result);
                var calls = Math.Max(1, result.Calls);
                var perCall = probes.Select((probe, i) => (probe.Name, Cost: new CallCost(
                    (cpuAfter[i] - cpuBefore[i]).TotalMicroseconds / calls,
                    allocatedAfter[i] - allocatedBefore[i] is { } bytes ? bytes / calls : null))).ToArray();
                foreach (var (probe, cost) in perCall)
                {
                    costs[name][probe].Add(cost);
                }

                Console.WriteLine($"round {round} {name,-12}: {result.PerSecond,10:N0}/s  p50 {result.P50Ms,6:0.00} ms  p99 {result.P99Ms,6:0.00} ms  errors {result.Errors}{string.Concat(perCall.Select(entry => $"  {entry.Name} {entry.Cost}"))}");
            }
        }

        var steady = targets.ToDictionary(target => target.Name, _ => new List<LoadResult>());
        Console.WriteLine();
        Console.WriteLine($"open loop: {settings.Rate} calls/s, {settings.Seconds} s per run");
        for (var round = 1; round <= settings.Rounds; round++)
        {
            foreach (var (name, url, call) in targets)
            {
                var result = await OpenLoop.RunAsync(url, call, settings.Rate, TimeSpan.FromSeconds(settings.Seconds));
                steady[name].Add(result);
                Console.WriteLine($"round {round} {name,-12}: p50 {result.P50Ms,6:0.00} ms  p99 {result.P99Ms,6:0.00} ms  errors {result.Errors}");
            }
        }

        var full = targets.ToDictionary(target => target.Name, target => Median(results[target.Name], run => run.PerSecond));
        var open = targets.ToDictionary(target => target.Name, target => (P50Ms: MedianOf(steady[target.Name], run => run.P50Ms), P99Ms: MedianOf(steady[target.Name], run => run.P99Ms)));
        Console.WriteLine();
        Console.WriteLine($"target        requests/s (median)  p50 ms  p99 ms  | at {settings.Rate}/s: p50 ms  p99 ms");
        foreach (var (name, _, _) in targets)
        {
            Console.WriteLine($"{name,-12}  {full[name].PerSecond,19:N0}  {full[name].P50Ms,6:0.00}  {full[name].P99Ms,6:0.00}  |  {open[name].P50Ms,16:0.00}  {open[name].P99Ms,6:0.00}");
        }

        foreach (var (name, _, _) in targets)
        {
            Console.WriteLine($"CPU per call, {name}: {string.Join(", ", costs[name].Select(entry => $"{entry.Key} {Median(entry.Value.Select(cost => cost.CpuMicros)):0} µs"))}");
        }

        foreach (var (name, _, _) in targets)
        {
            Console.WriteLine($"allocated per call, {name}: {string.Join(", ", costs[name].Where(entry => entry.Value[0].Bytes is not null).Select(entry => $"{entry.Key} {Median(entry.Value.Select(cost => cost.Bytes!.Value)) / 1024:0.0} KB"))}");
        }

        var reference = targets[0].Name;
        foreach (var (name, _, _) in targets.Skip(1))
        {
            Console.WriteLine($"ratio {name}/{reference}: {full[name].PerSecond / full[reference].PerSecond:0.00}  added under full load: p50 {full[name].P50Ms - full[reference].P50Ms:0.00} ms  p99 {full[name].P99Ms - full[reference].P99Ms:0.00} ms  added at {settings.Rate}/s: p50 {open[name].P50Ms - open[reference].P50Ms:0.00} ms  p99 {open[name].P99Ms - open[reference].P99Ms:0.00} ms");
        }
    }

    /// <summary>Each counting probe's allocated bytes so far (null for the others), read at once.</summary>
    private static async Task<double?[]> AllocatedAsync(IReadOnlyList<ProcessProbe> probes) =>
        await Task.WhenAll(probes.Select(async probe => probe.CountsAllocations ? await probe.AllocatedAsync() : (double?)null));

    private static double Median(IEnumerable<double> values) => values.Order().ElementAt(values.Count() / 2);

    private static double MedianOf(List<LoadResult> runs, Func<LoadResult, double> by) => by(Median(runs, by));

    private static LoadResult Median(List<LoadResult> runs, Func<LoadResult, double> by) => runs.OrderBy(by).ElementAt(runs.Count / 2);
}

/// <summary>Where a run sends its load, and the call it sends there.</summary>
internal sealed record BenchTarget(string Name, Uri Url, EchoCall Call);

/// <summary>What one call cost a process: CPU time, and the bytes it allocated where they are counted.</summary>
internal sealed record CallCost(double CpuMicros, double? Bytes)
{
    public override string ToString() => Bytes is { } bytes ? $"{CpuMicros,4:0} µs {bytes / 1024,4:0.0} KB" : $"{CpuMicros,4:0} µs";
}

/// <summary>Throughput and latency of one run.</summary>
internal sealed record LoadResult(double PerSecond, double P50Ms, double P99Ms, long Errors, long Calls)
{
    public static LoadResult From(IEnumerable<double> latencies, double seconds, long errors)
    {
        var all = latencies.Order().ToArray();
        return new LoadResult(all.Length / seconds, Percentile(all, 0.50), Percentile(all, 0.99), errors, all.Length);
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(p * sorted.Length) - 1)];
}

/// <summary>The echo call the load sends: its body, and the headers of its protocol version.</summary>
internal sealed record EchoCall(string Body, IReadOnlyList<(string Name, string Value)> Headers)
{
    private const string Arguments = "\"name\":\"echo\",\"arguments\":{\"message\":\"benchmark payload\"}";

    public static EchoCall For(string? version) => version switch
    {
        "2026-07-28" => new(
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{" + Arguments
                + ",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
            [("MCP-Protocol-Version", version), ("Mcp-Method", "tools/call"), ("Mcp-Name", "echo")]),
        _ => new(
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{" + Arguments + "}}",
            version is null ? [] : [("MCP-Protocol-Version", version)]),
    };

    /// <summary>This call with <c>Authorization: Bearer {token}</c>.</summary>
    public EchoCall WithBearer(string token) => this with { Headers = [.. Headers, ("Authorization", $"Bearer {token}")] };
}

/// <summary>The load generator: callers that each send one request at a time, as fast as answers come.</summary>
internal static class Load
{
    public static HttpClient CreateClient(int connections) => new(new SocketsHttpHandler { MaxConnectionsPerServer = connections, UseCookies = false })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    public static async Task<bool> SendAsync(HttpClient http, Uri url, EchoCall call)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(call.Body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        foreach (var (name, value) in call.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return response.StatusCode == HttpStatusCode.OK && body.Contains("benchmark payload", StringComparison.Ordinal);
    }

    /// <summary>As <see cref="SendAsync"/>, with a failed connection or a timed-out call counted as a failed call.</summary>
    public static async Task<bool> TrySendAsync(HttpClient http, Uri url, EchoCall call)
    {
        try
        {
            return await SendAsync(http, url, call);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>Closed-loop callers for <paramref name="seconds"/> seconds: the calls answered in each second, and the failed calls.</summary>
    public static async Task<(long[] PerSecond, long Errors)> CountPerSecondAsync(Uri url, EchoCall call, int concurrency, int seconds)
    {
        using var http = CreateClient(concurrency);
        var answered = new long[seconds];
        long errors = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                var ok = await TrySendAsync(http, url, call);
                if (!ok)
                {
                    Interlocked.Increment(ref errors);
                }
                else if ((int)clock.Elapsed.TotalSeconds is var second && second < seconds)
                {
                    Interlocked.Increment(ref answered[second]);
                }
            }
        })));
        return (answered, errors);
    }

    public static async Task<LoadResult> RunAsync(Uri url, EchoCall call, int concurrency, TimeSpan duration)
    {
        using var http = CreateClient(concurrency);
        var latencies = new List<double>[concurrency];
        long errors = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
        {
            var mine = latencies[worker] = new List<double>(100_000);
            while (clock.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                if (!await SendAsync(http, url, call))
                {
                    Interlocked.Increment(ref errors);
                }

                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        })));
        return LoadResult.From(latencies.SelectMany(list => list), clock.Elapsed.TotalSeconds, errors);
    }
}

/// <summary>
/// Open-loop load: calls go out at a steady rate however the target answers, each on its own, so a slow
/// answer delays nothing else. Below capacity, its latencies are what one call costs, without queueing.
/// </summary>
internal static class OpenLoop
{
    /// <summary>
    /// Sends <paramref name="rate"/> calls a second for <paramref name="duration"/>. <paramref name="tick"/>, if
    /// given, runs every few milliseconds with the time so far, the calls sent and the calls failed.
    /// </summary>
    public static async Task<LoadResult> RunAsync(Uri url, EchoCall call, int rate, TimeSpan duration, Action<TimeSpan, long, long>? tick = null)
    {
        using var http = Load.CreateClient(int.MaxValue);
        var latencies = new ConcurrentQueue<double>();
        long errors = 0;
        var sent = 0L;
        var inFlight = new List<Task>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            for (var due = (long)(clock.Elapsed.TotalSeconds * rate); sent < due; sent++)
            {
                inFlight.Add(Task.Run(async () =>
                {
                    var started = Stopwatch.GetTimestamp();
                    if (!await Load.TrySendAsync(http, url, call))
                    {
                        Interlocked.Increment(ref errors);
                    }

                    latencies.Enqueue(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }));
            }

            inFlight.RemoveAll(task => task.IsCompleted);
            tick?.Invoke(clock.Elapsed, sent, Interlocked.Read(ref errors));
            await Task.Delay(5);
        }

        await Task.WhenAll(inFlight);
        return LoadResult.From(latencies, clock.Elapsed.TotalSeconds, errors);
    }
}

/// <summary>The two servers of the node target, each run in a process of its own (<see cref="ChildServer"/>).</summary>
internal static class Servers
{
    /// <summary>The reference: parse the JSON-RPC request, answer the result an echo tool would give.</summary>
    public static WebApplication Raw()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapPost("/echo", async (HttpContext context) =>
        {
            var request = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            var message = request?["params"]?["arguments"]?["message"]?.GetValue<string>();
            var answer = new JsonObject
            {
                ["jsonrpc"] = "2.0",
                ["id"] = request?["id"]?.DeepClone(),
                ["result"] = new JsonObject { ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = message }) },
            };
            context.Response.ContentType = "application/json";
            await JsonSerializer.SerializeAsync(context.Response.Body, answer, cancellationToken: context.RequestAborted);
        });
        return app;
    }

    /// <summary>The node as Program.cs composes it, without Redis (standalone) and with warnings-only logs.</summary>
    public static WebApplication Node()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration["Node:Id"] = "bench-node";
        builder.Configuration["Node:MaxConcurrentCalls"] = "1024";
        builder.AddServiceDefaults();
        builder.AddMcpNode();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapMcp("/mcp").WithRequestGate();
        return app;
    }
}

/// <summary>A steady load on a separate node process, sampling its working set.</summary>
internal static class Soak
{
    public static async Task RunAsync(EchoSettings settings)
    {
        var assembly = Path.Combine(AppContext.BaseDirectory, "McpAspire.McpNode.dll");
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [assembly]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["Node__Id"] = "soak-node";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        using var node = Process.Start(start)!;
        node.OutputDataReceived += (_, _) => { };
        node.ErrorDataReceived += (_, _) => { };
        node.BeginOutputReadLine();
        node.BeginErrorReadLine();
        var url = new Uri($"http://127.0.0.1:{port}/mcp");
        using var http = new HttpClient();
        try
        {
            while (!await Load.TrySendAsync(http, url, settings.Call))
            {
                await Task.Delay(200);
            }

            Console.WriteLine($"soak: {settings.Rate} calls/s for {settings.SoakSeconds} s against node pid {node.Id}");
            var warmupEnd = TimeSpan.FromSeconds(Math.Min(60, settings.SoakSeconds / 5.0));
            double? baseline = null;
            double peak = 0;
            var nextSample = TimeSpan.Zero;
            var result = await OpenLoop.RunAsync(url, settings.Call, settings.Rate, TimeSpan.FromSeconds(settings.SoakSeconds), (elapsed, sent, errors) =>
            {
                if (elapsed < nextSample)
                {
                    return;
                }

                node.Refresh();
                var mib = node.WorkingSet64 / 1024.0 / 1024.0;
                if (elapsed >= warmupEnd)
                {
                    baseline ??= mib;
                    peak = Math.Max(peak, mib);
                }

                Console.WriteLine($"t={elapsed.TotalSeconds,5:0} s  working set {mib,7:0.0} MiB  sent {sent}  errors {errors}");
                nextSample += TimeSpan.FromSeconds(10);
            });
            node.Refresh();
            var final = node.WorkingSet64 / 1024.0 / 1024.0;
            Console.WriteLine($"after warm-up {baseline:0.0} MiB, peak {peak:0.0} MiB, final {final:0.0} MiB, growth {(final - baseline) / baseline * 100:0.0}% (peak {(peak - baseline) / baseline * 100:0.0}%), {result.Calls} calls, {result.Errors} errors");
        }
        finally
        {
            node.Kill();
            await node.WaitForExitAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
