using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using McpAspire.AppHost.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace McpAspire.EndToEndTests;

/// <summary>
/// The AppHost's cluster, started through Aspire.Hosting.Testing: DCP runs the store, the coordinator and the
/// nodes as real processes, exactly as <c>dotnet run --project AppHost</c> does, with the coordinator on a free
/// port. Each resource's output goes to the test log and is kept for assertions.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private readonly DistributedApplication _app;
    private readonly ConcurrentQueue<(string Resource, string Line)> _lines;
    private readonly CancellationTokenSource _stopWatching;

    private TestCluster(DistributedApplication app, ConcurrentQueue<(string, string)> lines, CancellationTokenSource stopWatching)
    {
        _app = app;
        _lines = lines;
        _stopWatching = stopWatching;
    }

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>The coordinator's base URL (<c>http://127.0.0.1:port</c>).</summary>
    public Uri CoordinatorUrl => UrlOf("coordinator");

    /// <summary>The coordinator's MCP endpoint, where clients connect.</summary>
    public Uri CoordinatorMcpUrl => new(CoordinatorUrl, "/mcp");

    /// <summary>The names of the cluster's resources that DCP runs, as the dashboard lists them.</summary>
    public IReadOnlyList<string> ResourceNames { get; private init; } = [];

    /// <summary>
    /// Starts the AppHost with <paramref name="nodes"/> nodes and <paramref name="environment"/> for every service,
    /// waits until every resource is healthy and the coordinator lists every node.
    /// </summary>
    /// <param name="nodes">How many nodes (the AppHost's <c>--nodes</c>).</param>
    /// <param name="environment">Settings for the coordinator and every node.</param>
    public static Task<TestCluster> StartAsync(int nodes, params (string Key, string Value)[] environment) =>
        StartAsync(nodes, [], null, environment);

    /// <summary>
    /// Starts the AppHost with <paramref name="nodes"/> nodes, extra AppHost <paramref name="arguments"/>, a chance
    /// to change the application model (<paramref name="model"/>), and <paramref name="environment"/> for every
    /// service; waits until every resource is healthy and the coordinator lists every node.
    /// </summary>
    public static async Task<TestCluster> StartAsync(
        int nodes, string[] arguments, Action<IDistributedApplicationTestingBuilder>? model, params (string Key, string Value)[] environment)
    {
        var clock = Stopwatch.StartNew();
        string[] args = ["--nodes", nodes.ToString(CultureInfo.InvariantCulture), "--coordinator-port", "0", .. arguments];
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.McpAspire_AppHost>(args, Cancel);
        model?.Invoke(builder);
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            // Aspire points every service at the dashboard's OTLP endpoint, but tests run without the dashboard:
            // each service would retry its exports and hold up its shutdown flushing them to no one.
            foreach (var otlp in project.Annotations.OfType<OtlpExporterAnnotation>().ToList())
            {
                project.Annotations.Remove(otlp);
            }

            var service = builder.CreateResourceBuilder(project);
            foreach (var (key, value) in environment)
            {
                service.WithEnvironment(key, value);
            }
        }

        var resources = builder.Resources.Where(resource => resource is ProjectResource or LocalStoreResource).ToList();
        var names = resources.Select(resource => resource.Name).ToList();
        var app = await builder.BuildAsync(Cancel);
        TestContext.Current.TestOutputHelper?.WriteLine($"application model built in {clock.Elapsed.TotalSeconds:0.0} s");
        var lines = new ConcurrentQueue<(string, string)>();
        var stopWatching = new CancellationTokenSource();
        var cluster = new TestCluster(app, lines, stopWatching) { ResourceNames = names };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
            timeout.CancelAfter(StartTimeout);
            await app.StartAsync(timeout.Token);
            // Once started, each resource has its DCP name, which its log stream goes by; DCP replays what came before.
            cluster.WatchLogs(resources);
            foreach (var name in names)
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
            }

            using var http = new HttpClient();
            await ClusterApiProbe.WaitForNodesAsync(http, cluster, nodes);
            TestContext.Current.TestOutputHelper?.WriteLine($"cluster of {nodes} node(s) ready in {clock.Elapsed.TotalSeconds:0.0} s");
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until <paramref name="resource"/> is healthy, as the dashboard shows it, failing after 3 minutes.</summary>
    public async Task WaitForHealthyAsync(string resource)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        timeout.CancelAfter(StartTimeout);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync(resource, timeout.Token);
    }

    /// <summary>The base URL of <paramref name="resource"/>'s <c>http</c> endpoint.</summary>
    public Uri UrlOf(string resource) => _app.GetEndpoint(resource, "http");

    /// <summary>The MCP endpoint of <paramref name="resource"/> (a node or the coordinator).</summary>
    public Uri McpUrlOf(string resource) => new(UrlOf(resource), "/mcp");

    /// <summary>
    /// The process id of the service <paramref name="resource"/> runs. DCP starts a project with <c>dotnet run</c>,
    /// which starts the service as its child: this is the child, the process that serves.
    /// </summary>
    public async Task<int> ProcessIdAsync(string resource)
    {
        var snapshot = await _app.ResourceNotifications.WaitForResourceAsync(resource, e => Pid(e.Snapshot) is not null, Cancel);
        var pid = Pid(snapshot.Snapshot)!.Value;
        var isProject = snapshot.Snapshot.ResourceType == "Project";
        return isProject ? Assert.Single(ProcessProbe.ChildrenOf(pid)) : pid;
    }

    /// <summary>Sends <paramref name="signal"/> (<c>TERM</c>, <c>KILL</c>, ...) to the service <paramref name="resource"/> runs.</summary>
    public async Task SignalAsync(string resource, string signal)
    {
        var pid = await ProcessIdAsync(resource);
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(Cancel);
    }

    /// <summary>The exit code of <paramref name="resource"/> if it has exited, else <see langword="null"/>.</summary>
    public int? ExitCodeOrNull(string resource) =>
        _app.ResourceNotifications.TryGetCurrentState(resource, out var current) ? current.Snapshot.ExitCode : null;

    /// <summary>The exit code of <paramref name="resource"/>, once it has exited.</summary>
    public async Task<int> ExitCodeAsync(string resource, TimeSpan timeout)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        deadline.CancelAfter(timeout);
        var exited = await _app.ResourceNotifications.WaitForResourceAsync(resource, e => e.Snapshot.ExitCode is not null, deadline.Token);
        return exited.Snapshot.ExitCode!.Value;
    }

    /// <summary>Runs the dashboard command <paramref name="command"/> on <paramref name="resource"/>, as a click in the dashboard does.</summary>
    public async Task<ExecuteCommandResult> ExecuteCommandAsync(string resource, string command)
    {
        var model = _app.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(candidate => candidate.Name == resource);
        return await _app.Services.GetRequiredService<ResourceCommandService>().ExecuteCommandAsync(model, command, Cancel);
    }

    /// <summary>The connection string <paramref name="resource"/> gives the services that reference it.</summary>
    public async Task<string> ConnectionStringAsync(string resource) =>
        await _app.GetConnectionStringAsync(resource, Cancel) ?? throw new InvalidOperationException($"{resource} has no connection string.");

    /// <summary>The lines <paramref name="resource"/> has written so far.</summary>
    public IReadOnlyList<string> LinesOf(string resource) => [.. _lines.Where(entry => entry.Resource == resource).Select(entry => entry.Line)];

    private static int? Pid(CustomResourceSnapshot snapshot) =>
        snapshot.Properties.FirstOrDefault(property => property.Name == "executable.pid")?.Value is { } value
            && int.TryParse(Convert.ToString(value, CultureInfo.InvariantCulture), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            ? pid
            : null;

    private void WatchLogs(IEnumerable<IResource> resources)
    {
        var logs = _app.Services.GetRequiredService<ResourceLoggerService>();
        foreach (var resource in resources)
        {
            var name = resource.Name;
            _ = Task.Run(async () =>
            {
                try
                {
                    await foreach (var batch in logs.WatchAsync(resource).WithCancellation(_stopWatching.Token))
                    {
                        foreach (var line in batch)
                        {
                            _lines.Enqueue((name, line.Content));
                            TestContext.Current.TestOutputHelper?.WriteLine($"[{name}] {line.Content}");
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                    // The cluster is stopping.
                }
            });
        }
    }

    /// <summary>
    /// Stops the services first, as an orchestrator would (SIGTERM, so each node deregisters while the store is
    /// still up), then lets DCP stop the rest and clean up.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var services = new List<int>();
            foreach (var name in ResourceNames)
            {
                if (_app.ResourceNotifications.TryGetCurrentState(name, out var current) && current.Snapshot.ResourceType == "Project"
                    && current.Snapshot.ExitCode is null && Pid(current.Snapshot) is { } wrapper)
                {
                    services.AddRange(ProcessProbe.ChildrenOf(wrapper));
                }
            }

            foreach (var pid in services)
            {
                using var term = Process.Start("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)]);
                await term.WaitForExitAsync();
            }

            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (services.Any(ProcessProbe.IsRunning) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            TestContext.Current.TestOutputHelper?.WriteLine($"services stopped in {clock.Elapsed.TotalSeconds:0.0} s");
            await _app.StopAsync();
            TestContext.Current.TestOutputHelper?.WriteLine($"DCP stopped the rest by {clock.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            await _stopWatching.CancelAsync();
            await _app.DisposeAsync();
            _stopWatching.Dispose();
            TestContext.Current.TestOutputHelper?.WriteLine($"cluster disposed by {clock.Elapsed.TotalSeconds:0.0} s");
        }
    }
}
