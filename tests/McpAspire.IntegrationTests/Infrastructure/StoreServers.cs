using McpAspire.AppHost.Hosting;
using McpAspire.Cluster;
using StackExchange.Redis;

[assembly: AssemblyFixture(typeof(McpAspire.IntegrationTests.Infrastructure.StoreServers))]

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>
/// Real Redis-protocol servers for the whole test assembly: Garnet (the local dotnet tool) always,
/// and <c>redis-server</c> when it is on PATH. Under <c>CI=true</c> a missing <c>redis-server</c> fails
/// the tests that need it instead of skipping them.
/// </summary>
public sealed class StoreServers : IAsyncLifetime
{
    public const string Garnet = "garnet";
    public const string Redis = "redis";

    private readonly Dictionary<string, StoreServer> _servers = new(StringComparer.Ordinal);

    public static TheoryData<string> Kinds => [Garnet, Redis];

    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The connection string of a server of <paramref name="kind"/>; skips (or fails in CI) when it is not installed.</summary>
    public string ConnectionString(string kind)
    {
        if (_servers.TryGetValue(kind, out var server))
        {
            return server.ConnectionString;
        }

        const string missing = "redis-server is not on PATH (install it with 'apt-get install redis-server'; .ci/run does).";
        if (InCi)
        {
            Assert.Fail(missing);
        }

        Assert.Skip(missing);
        return string.Empty;
    }

    public async ValueTask InitializeAsync()
    {
        _servers[Garnet] = await StoreServer.StartGarnetAsync();
        if (ExecutableSearch.Find("redis-server") is not null)
        {
            _servers[Redis] = await StoreServer.StartRedisAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers.Values)
        {
            await server.DisposeAsync();
        }
    }
}

/// <summary>One Redis-protocol server process on a free loopback port.</summary>
public sealed class StoreServer : IAsyncDisposable
{
    private StoreServer(ServerProcess process, int port)
    {
        Process = process;
        Port = port;
    }

    public ServerProcess Process { get; }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Starts a server of <paramref name="kind"/> (<see cref="StoreServers.Garnet"/> or <see cref="StoreServers.Redis"/>).</summary>
    /// <param name="kind">Which server.</param>
    /// <param name="port">The port, or 0 for a free one.</param>
    /// <param name="ready">Adjusts the options of the client that waits for the server (its password or TLS, say).</param>
    /// <param name="arguments">Extra command-line arguments.</param>
    public static Task<StoreServer> StartAsync(string kind, int port = 0, Action<ConfigurationOptions>? ready = null, params string[] arguments) =>
        kind == StoreServers.Redis ? StartRedisAsync(port, ready, arguments) : StartGarnetAsync(port, ready, arguments);

    public static Task<StoreServer> StartGarnetAsync(int port = 0, Action<ConfigurationOptions>? ready = null, params string[] arguments)
    {
        var garnet = GarnetTool.Locate(RepositoryRoot.Path);
        return StartAsync(port, ready, chosen => ServerProcess.Start("garnet", "dotnet", [garnet, "--port", chosen, "--bind", "127.0.0.1", .. arguments.Contains("--lua") ? arguments : ["--lua", .. arguments]],
            RepositoryRoot.Path));
    }

    public static Task<StoreServer> StartRedisAsync(int port = 0, Action<ConfigurationOptions>? ready = null, params string[] arguments) =>
        StartAsync(port, ready, chosen => ServerProcess.Start("redis-server", ExecutableSearch.Find("redis-server")!, ["--port", chosen, "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no", .. arguments],
            RepositoryRoot.Path));

    /// <summary>
    /// Starts a server and waits until it says it listens, then until it answers. The line comes first: a port
    /// picked here was only free a moment ago, and if another test's server took it, ours fails to bind and the
    /// answer would be theirs. Then a server on a picked port is started again on a new one (three tries).
    /// </summary>
    private static async Task<StoreServer> StartAsync(int port, Action<ConfigurationOptions>? ready, Func<string, ServerProcess> start)
    {
        for (var attempt = 1; ; attempt++)
        {
            var chosen = port == 0 ? PortAllocator.GetFreePort() : port;
            var server = new StoreServer(start(chosen.ToString(System.Globalization.CultureInfo.InvariantCulture)), chosen);
            var listening = server.Process.PrintedAsync("Ready to accept connections");
            if (await Task.WhenAny(listening, server.Process.Exited, Task.Delay(TimeSpan.FromSeconds(60))) == listening)
            {
                return await AnswersAsync(server, ready);
            }

            await server.DisposeAsync();
            if (port != 0 || attempt == 3)
            {
                throw new InvalidOperationException($"{server.Process.Name} did not start on port {chosen}: {string.Join(Environment.NewLine, server.Process.RecentOutput)}");
            }
        }
    }

    private static async Task<StoreServer> AnswersAsync(StoreServer server, Action<ConfigurationOptions>? ready)
    {
        var options = ClusterStore.Configure(ConfigurationOptions.Parse(server.ConnectionString));
        ready?.Invoke(options);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await Eventually.AnswersAsync(redis))
        {
            if (server.Process.Exited.IsCompleted || DateTime.UtcNow > deadline)
            {
                await server.DisposeAsync();
                throw new InvalidOperationException($"{server.Process.Name} did not start: {string.Join(Environment.NewLine, server.Process.RecentOutput)}");
            }

            await Task.Delay(50);
        }

        return server;
    }

    public async ValueTask DisposeAsync() => await Process.DisposeAsync();
}
