using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using McpAspire.AppHost.Hosting;
using McpAspire.Bench;

/// <summary>
/// A cluster of real processes for <c>--target gateway</c> and <c>--target warmup</c>: the AppHost's Garnet,
/// coordinator and nodes, started under DCP through Aspire.Hosting.Testing, as the end-to-end tests start it. With
/// <c>--auth jwt</c>, a second coordinator on the same registry requires tokens of <see cref="Tokens"/>, with one
/// authorization rule and limits far above the load, so it does the whole per-call work of authentication,
/// authorization and rate limiting.
/// </summary>
internal sealed class Gateway(DistributedApplication app, BenchTokens? tokens) : IAsyncDisposable
{
    private const string AuthCoordinator = "coordinator-auth";

    /// <summary>The coordinator's MCP endpoint.</summary>
    public Uri CoordinatorMcpUrl => new(app.GetEndpoint("coordinator", "http"), "/mcp");

    /// <summary>The MCP endpoint of the coordinator that requires tokens.</summary>
    public Uri AuthCoordinatorMcpUrl => new(app.GetEndpoint(AuthCoordinator, "http"), "/mcp");

    /// <summary>The issuer of the tokens the second coordinator requires; <see langword="null"/> without <c>--auth</c>.</summary>
    public BenchTokens? Tokens => tokens;

    /// <summary>The node's MCP endpoint.</summary>
    public Uri NodeUrl => new(app.GetEndpoint("node-1", "http"), "/mcp");

    /// <summary>
    /// Starts the cluster with <paramref name="nodes"/> nodes, and <paramref name="environment"/> set for every service
    /// (a runtime setting to try, say), and returns once the coordinators route to every node.
    /// </summary>
    public static async Task<Gateway> StartAsync(int nodes, bool auth, IReadOnlyList<(string Name, string Value)> environment)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.McpAspire_AppHost>(
            ["--nodes", nodes.ToString(CultureInfo.InvariantCulture), "--coordinator-port", "0"]);
        var tokens = auth ? new BenchTokens() : null;
        if (tokens is not null)
        {
            var coordinator = builder.AddCoordinator(
                AuthCoordinator,
                port: 0,
                builder.CreateResourceBuilder<IResourceWithConnectionString>("redis"),
                builder.CreateResourceBuilder<ParameterResource>("cluster-key"),
                builder.CreateResourceBuilder<ParameterResource>("session-key"));
            foreach (var (key, value) in tokens.Settings)
            {
                coordinator.WithEnvironment(key, value);
            }
        }

        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            // No dashboard runs here: without this, each service would build and export every span to no one,
            // and the benchmark would measure that.
            foreach (var otlp in project.Annotations.OfType<OtlpExporterAnnotation>().ToList())
            {
                project.Annotations.Remove(otlp);
            }

            // The direct and yarp rounds call the node without the coordinator's credential, so the node takes calls
            // without one: every round then runs the same node code.
            // For the same reason the coordinators keep their audit records off the console, as they do when they
            // export them: this process would read back and log again a line per call.
            var service = builder.CreateResourceBuilder(project)
                .WithEnvironment("Node__RequireClusterCredential", "false")
                .WithEnvironment("Node__MaxConcurrentCalls", "1024")
                .WithEnvironment("Logging__LogLevel__Default", "Warning")
                .WithEnvironment("Coordinator__Audit__Console", "false");
            foreach (var (name, value) in environment)
            {
                service.WithEnvironment(name, value);
            }
        }

        var app = await builder.BuildAsync();
        var gateway = new Gateway(app, tokens);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await app.StartAsync(timeout.Token);
            var nodeNames = Enumerable.Range(1, nodes).Select(i => $"node-{i}").ToArray();
            foreach (var name in (string[])["redis", "coordinator", .. nodeNames, .. tokens is null ? [] : (string[])[AuthCoordinator]])
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
            }

            using var http = new HttpClient();
            foreach (var (url, token) in (IEnumerable<(Uri, string?)>)[(gateway.CoordinatorMcpUrl, null), .. tokens is null ? [] : (IEnumerable<(Uri, string?)>)[(gateway.AuthCoordinatorMcpUrl, tokens.Mint(BenchTokens.AdminScope))]])
            {
                while (!await ListsNodesAsync(http, new Uri(url, "/api/nodes"), token, nodeNames, timeout.Token))
                {
                    await Task.Delay(100, timeout.Token);
                }
            }

            return gateway;
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The coordinator's, the YARP proxies', the node's and the load generator's CPU time (all on one machine, they
    /// share its cores), and the allocations of the services.
    /// </summary>
    public async Task<IReadOnlyList<ProcessProbe>> ProbesAsync(ChildServer proxy, ChildServer proxyWithDefaults) =>
    [
        ProcessProbe.Of("coordinator", await ServiceProcessIdAsync("coordinator")),
        .. tokens is null ? [] : (ProcessProbe[])[ProcessProbe.Of("coordinator+auth", await ServiceProcessIdAsync(AuthCoordinator))],
        ProcessProbe.Of("yarp", proxy.ProcessId),
        ProcessProbe.Of("yarp+defaults", proxyWithDefaults.ProcessId),
        ProcessProbe.Of("node", await ServiceProcessIdAsync("node-1")),
        ProcessProbe.CpuOf("load", Environment.ProcessId),
    ];

    private static async Task<bool> ListsNodesAsync(HttpClient http, Uri nodes, string? token, string[] names, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, nodes);
        if (token is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await http.SendAsync(request, cancellationToken);
        var listed = await response.Content.ReadAsStringAsync(cancellationToken);
        return names.All(name => listed.Contains($"\"id\":\"{name}\"", StringComparison.Ordinal));
    }

    /// <summary>DCP runs a project as <c>dotnet run</c>, which runs the service as its only child: that child's id.</summary>
    private async Task<int> ServiceProcessIdAsync(string resource)
    {
        var running = await app.ResourceNotifications.WaitForResourceAsync(
            resource, e => e.Snapshot.Properties.Any(property => property.Name == "executable.pid"));
        var pid = Convert.ToString(running.Snapshot.Properties.First(property => property.Name == "executable.pid").Value, CultureInfo.InvariantCulture);
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            var stat = Path.Combine(directory, "stat");
            if (File.Exists(stat) && File.ReadAllText(stat) is var text && text[(text.LastIndexOf(')') + 2)..].Split(' ')[1] == pid)
            {
                return int.Parse(Path.GetFileName(directory), CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"{resource}'s 'dotnet run' (pid {pid}) has no child process.");
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
