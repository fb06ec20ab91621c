using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using McpAspire.ServiceDefaults.Redis;
using Microsoft.Extensions.Logging.Abstractions;

// Pipelined GET/SET from 50 concurrent callers through RedisClient, as a ratio to redis-benchmark -c 50
// against the same server in the same run. Rounds alternate between the two so that machine noise
// hits both alike; the medians are compared.
var settings = BenchSettings.Parse(args);
var redisBenchmark = Which("redis-benchmark") ?? throw new InvalidOperationException("redis-benchmark is not on PATH (apt-get install redis-tools).");
Process? ownServer = null;
var port = settings.Port;
if (port == 0)
{
    var redisServer = Which("redis-server") ?? throw new InvalidOperationException("redis-server is not on PATH (apt-get install redis-server), and no --port was given.");
    port = FreePort();
    ownServer = Process.Start(new ProcessStartInfo(redisServer, ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no"])
    {
        RedirectStandardOutput = true,
    })!;
}

try
{
    await using var client = RedisClient.Create(RedisConnectionOptions.Parse($"127.0.0.1:{port}"), NullLogger<RedisClient>.Instance);
    await client.WaitForConnectionAsync().WaitAsync(TimeSpan.FromSeconds(30));
    Console.WriteLine($"server 127.0.0.1:{port}, {settings.Requests} requests per test, {settings.Clients} concurrent callers, {settings.Rounds} rounds");

    // Warm up the JIT, the thread pool and the connection.
    await RunOursAsync(client, "SET", settings.Requests / 10, settings.Clients);
    await RunOursAsync(client, "GET", settings.Requests / 10, settings.Clients);

    var results = new Dictionary<string, (List<double> Reference, List<double> Ours)>
    {
        ["SET"] = ([], []),
        ["GET"] = ([], []),
    };
    for (var round = 1; round <= settings.Rounds; round++)
    {
        var reference = await RunReferenceAsync(redisBenchmark, port, settings);
        foreach (var test in results.Keys)
        {
            results[test].Reference.Add(reference[test]);
            results[test].Ours.Add(await RunOursAsync(client, test, settings.Requests, settings.Clients));
        }

        Console.WriteLine($"round {round}: " + string.Join("  ", results.Select(r =>
            $"{r.Key} redis-benchmark {r.Value.Reference[^1]:N0}/s RedisClient {r.Value.Ours[^1]:N0}/s")));
    }

    Console.WriteLine();
    Console.WriteLine("test  redis-benchmark (median)  RedisClient (median)  ratio");
    foreach (var (test, (reference, ours)) in results)
    {
        Console.WriteLine($"{test,-4}  {Median(reference),20:N0}/s  {Median(ours),18:N0}/s  {Median(ours) / Median(reference),5:0.00}");
    }
}
finally
{
    if (ownServer is not null)
    {
        ownServer.Kill();
        await ownServer.WaitForExitAsync();
        ownServer.Dispose();
    }
}

static async Task<double> RunOursAsync(RedisClient client, string test, int requests, int clients)
{
    // The same key and 3-byte value redis-benchmark uses by default.
    RedisArgument key = "key:__rand_int__";
    RedisArgument value = "xxx";
    var perCaller = requests / clients;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
    {
        for (var i = 0; i < perCaller; i++)
        {
            if (test == "SET")
            {
                await client.ExecuteAsync(["SET", key, value]);
            }
            else
            {
                await client.ExecuteAsync(["GET", key]);
            }
        }
    })));
    return perCaller * clients / clock.Elapsed.TotalSeconds;
}

static async Task<Dictionary<string, double>> RunReferenceAsync(string redisBenchmark, int port, BenchSettings settings)
{
    using var process = Process.Start(new ProcessStartInfo(redisBenchmark,
        ["-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-c", settings.Clients.ToString(CultureInfo.InvariantCulture),
         "-n", settings.Requests.ToString(CultureInfo.InvariantCulture), "-t", "set,get", "--csv"])
    {
        RedirectStandardOutput = true,
    })!;
    var output = await process.StandardOutput.ReadToEndAsync();
    await process.WaitForExitAsync();
    var rates = new Dictionary<string, double>(StringComparer.Ordinal);
    foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
    {
        var fields = line.Split(',').Select(field => field.Trim('"')).ToArray();
        if (fields.Length >= 2 && fields[0] is "SET" or "GET" && double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var rate))
        {
            rates[fields[0]] = rate;
        }
    }

    return rates.Count == 2 ? rates : throw new InvalidOperationException($"Could not read redis-benchmark's output:\n{output}");
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

static string? Which(string name) =>
    (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
        .Select(directory => Path.Combine(directory, name))
        .FirstOrDefault(File.Exists);

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

/// <summary>Command-line settings: <c>--port P</c> (an existing server; default: start redis-server), <c>--requests N</c>, <c>--clients C</c>, <c>--rounds R</c>.</summary>
internal sealed record BenchSettings(int Port, int Requests, int Clients, int Rounds)
{
    public static BenchSettings Parse(string[] args)
    {
        var settings = new BenchSettings(0, 200_000, 50, 3);
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
