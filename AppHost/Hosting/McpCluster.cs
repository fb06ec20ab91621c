using System.Security.Cryptography;
using McpAspire.ServiceDefaults.Redis;
using Microsoft.Extensions.Logging.Abstractions;

namespace McpAspire.AppHost.Hosting;

/// <summary>
/// A running cluster: a Redis-protocol store, the coordinator and N nodes, each its own process,
/// wired with Aspire's environment contracts. The AppHost's <c>Program</c> and the end-to-end tests
/// start it the same way, with <see cref="StartAsync"/>.
/// </summary>
public sealed class McpCluster : IAsyncDisposable
{
    private const string Loopback = "127.0.0.1";

    private readonly ClusterOptions _options;
    private readonly IResourceLogSink _sink;
    private readonly List<ResourceProcess> _resources = [];
    private ResourceProcess? _store;
    private int _stopped;

    private McpCluster(ClusterOptions options, IResourceLogSink sink)
    {
        _options = options;
        _sink = sink;
    }

    /// <summary>Every process the cluster started: the store (unless external), the coordinator, then the nodes.</summary>
    public IReadOnlyList<ResourceProcess> Resources => _resources;

    /// <summary>The store's connection string, as injected into <c>ConnectionStrings__redis</c>.</summary>
    public string StoreConnectionString { get; private set; } = string.Empty;

    /// <summary>The coordinator's base URL (<c>http://127.0.0.1:port</c>).</summary>
    public Uri CoordinatorUrl { get; private set; } = null!;

    /// <summary>The coordinator's MCP endpoint, where clients connect.</summary>
    public Uri CoordinatorMcpUrl => new(CoordinatorUrl, "/mcp");

    /// <summary>Completes when any resource exits without being asked to.</summary>
    public Task<ResourceProcess> UnexpectedExit { get; private set; } = null!;

    /// <summary>Starts the store, then the coordinator and the nodes, and waits until each answers its health check.</summary>
    /// <exception cref="ClusterStartException">A resource did not come up; everything already started is stopped.</exception>
    public static async Task<McpCluster> StartAsync(ClusterOptions options, IResourceLogSink sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sink);
        var cluster = new McpCluster(options, sink);
        try
        {
            await cluster.StartStoreAsync(cancellationToken);
            await cluster.StartServicesAsync(cancellationToken);
            cluster.UnexpectedExit = cluster.WatchForExitsAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private async Task StartStoreAsync(CancellationToken cancellationToken)
    {
        var store = _options.Store.Trim();
        if (store.Equals("garnet", StringComparison.OrdinalIgnoreCase))
        {
            var garnet = await GarnetTool.LocateAsync(_sink, cancellationToken);
            var port = PortAllocator.GetFreePort();
            StoreConnectionString = $"{Loopback}:{port}";
            _store = Track(ResourceProcess.Start("store", "garnet", "dotnet",
                [garnet, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", Loopback, "--lua"],
                new Dictionary<string, string>(), ServiceProjects.RepositoryRoot, _sink));
        }
        else if (store.Equals("redis", StringComparison.OrdinalIgnoreCase))
        {
            var redisServer = ExecutableSearch.Find("redis-server")
                ?? throw new ClusterStartException("--store redis needs redis-server on PATH (e.g. 'apt-get install redis-server'); the default --store garnet needs only the .NET SDK.");
            var port = PortAllocator.GetFreePort();
            StoreConnectionString = $"{Loopback}:{port}";
            _store = Track(ResourceProcess.Start("store", "redis-server", redisServer,
                ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", Loopback, "--save", string.Empty, "--appendonly", "no"],
                new Dictionary<string, string>(), ServiceProjects.RepositoryRoot, _sink));
        }
        else
        {
            try
            {
                RedisConnectionOptions.Parse(store);
            }
            catch (FormatException ex)
            {
                throw new ClusterStartException($"--store must be garnet, redis or a Redis connection string: {ex.Message}", ex);
            }

            StoreConnectionString = store;
        }

        await WaitForStoreAsync(cancellationToken);
        if (_store is not null)
        {
            _store.Url = $"redis://{StoreConnectionString}";
            _store.State = ResourceState.Healthy;
        }
    }

    private async Task WaitForStoreAsync(CancellationToken cancellationToken)
    {
        var options = RedisConnectionOptions.Parse(StoreConnectionString);
        await using var client = RedisClient.Create(options, NullLogger<RedisClient>.Instance);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.StartupTimeout);
        try
        {
            var connected = client.WaitForConnectionAsync(timeout.Token);
            if (_store is not null && await Task.WhenAny(connected, _store.Exited) != connected)
            {
                throw Failure(_store, "exited before it accepted connections");
            }

            await connected;
            await client.PingAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or RedisException && !cancellationToken.IsCancellationRequested)
        {
            var reason = client.LastConnectionError ?? ex.Message;
            throw _store is null
                ? new ClusterStartException($"The store at {options.EndpointDisplay} did not answer within {_options.StartupTimeout.TotalSeconds:0} s: {reason}", ex)
                : Failure(_store, $"did not accept connections within {_options.StartupTimeout.TotalSeconds:0} s ({reason})");
        }
    }

    private async Task StartServicesAsync(CancellationToken cancellationToken)
    {
        var coordinatorPort = _options.CoordinatorPort == 0 ? PortAllocator.GetFreePort() : _options.CoordinatorPort;
        CoordinatorUrl = new Uri($"http://{Loopback}:{coordinatorPort}");
        var starting = new List<Task>
        {
            // A key of this run's own for stateful session ids; Coordinator__SessionKey in Environment replaces it.
            StartServiceAsync("coordinator", "McpAspire.McpCoordinator", coordinatorPort, new() { ["Coordinator__SessionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) }, cancellationToken),
        };
        for (var i = 1; i <= _options.Nodes; i++)
        {
            var name = $"node-{i}";
            starting.Add(StartServiceAsync(name, "McpAspire.McpNode", PortAllocator.GetFreePort(), new() { ["Node__Id"] = name }, cancellationToken));
        }

        await Task.WhenAll(starting);
    }

    private async Task StartServiceAsync(string name, string project, int port, Dictionary<string, string> environment, CancellationToken cancellationToken)
    {
        var assembly = ServiceProjects.Assemblies[project];
        var baseUrl = $"http://{Loopback}:{port}";
        environment["ASPNETCORE_URLS"] = baseUrl;
        environment["ConnectionStrings__redis"] = StoreConnectionString;
        environment["services__coordinator__http__0"] = CoordinatorUrl.ToString().TrimEnd('/');
        environment["OTEL_SERVICE_NAME"] = name == "coordinator" ? "coordinator" : "node";
        environment["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={name}";
        environment["Logging__Console__FormatterName"] = "simple";
        environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        environment["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss ";
        foreach (var (key, value) in _options.Environment)
        {
            environment[key] = value;
        }

        ResourceProcess resource;
        lock (_resources)
        {
            resource = Track(ResourceProcess.Start(name, "project", "dotnet", [assembly], environment, Path.GetDirectoryName(assembly)!, _sink));
        }

        resource.Url = $"{baseUrl}/mcp";
        await WaitForHealthAsync(resource, new Uri($"{baseUrl}/health"), cancellationToken);
    }

    private async Task WaitForHealthAsync(ResourceProcess resource, Uri health, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.StartupTimeout);
        while (true)
        {
            if (resource.Exited.IsCompleted)
            {
                throw Failure(resource, "exited before it became healthy");
            }

            try
            {
                using var response = await http.GetAsync(health, timeout.Token);
                if (response.IsSuccessStatusCode)
                {
                    resource.State = ResourceState.Healthy;
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!timeout.IsCancellationRequested)
            {
                // This probe timed out; the next one may not.
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw Failure(resource, $"did not answer {health} within {_options.StartupTimeout.TotalSeconds:0} s");
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw Failure(resource, $"did not answer {health} within {_options.StartupTimeout.TotalSeconds:0} s");
            }
        }
    }

    private async Task<ResourceProcess> WatchForExitsAsync()
    {
        var pending = _resources.ToDictionary(resource => (Task)resource.Exited);
        while (pending.Count > 0)
        {
            var exited = await Task.WhenAny(pending.Keys);
            var resource = pending[exited];
            pending.Remove(exited);
            if (Volatile.Read(ref _stopped) == 0)
            {
                return resource;
            }
        }

        return await new TaskCompletionSource<ResourceProcess>().Task;
    }

    /// <summary>
    /// Stops the coordinator and the nodes (SIGTERM, so nodes deregister), then the store; any process
    /// that outlives the stop timeout is killed. Safe to call more than once.
    /// </summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        await Task.WhenAll(_resources.Where(resource => resource != _store).Select(resource => resource.StopAsync(_options.StopTimeout)));
        if (_store is not null)
        {
            await _store.StopAsync(_options.StopTimeout);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        foreach (var resource in _resources)
        {
            await resource.DisposeAsync();
        }
    }

    private ResourceProcess Track(ResourceProcess resource)
    {
        _resources.Add(resource);
        return resource;
    }

    private static ClusterStartException Failure(ResourceProcess resource, string what) =>
        new($"{resource.Name} {what}. Its last output:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", resource.RecentOutput)}");
}
