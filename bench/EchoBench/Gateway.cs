using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

/// <summary>
/// A cluster of real processes for <c>--target gateway</c>: the AppHost's Garnet, coordinator and one node, started
/// under DCP through Aspire.Hosting.Testing, as the end-to-end tests start it.
/// </summary>
internal sealed class Gateway(DistributedApplication app) : IAsyncDisposable
{
    /// <summary>The coordinator's MCP endpoint.</summary>
    public Uri CoordinatorMcpUrl => new(app.GetEndpoint("coordinator", "http"), "/mcp");

    /// <summary>The node's MCP endpoint.</summary>
    public Uri NodeUrl => new(app.GetEndpoint("node-1", "http"), "/mcp");

    public static async Task<Gateway> StartAsync()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.McpAspire_AppHost>(["--nodes", "1", "--coordinator-port", "0"]);
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            // No dashboard runs here: without this, each service would build and export every span to no one,
            // and the benchmark would measure that.
            foreach (var otlp in project.Annotations.OfType<OtlpExporterAnnotation>().ToList())
            {
                project.Annotations.Remove(otlp);
            }

            // The direct and proxy rounds call the node without the coordinator's credential, so the node takes calls
            // without one: all three rounds then run the same node code.
            builder.CreateResourceBuilder(project)
                .WithEnvironment("Node__RequireClusterCredential", "false")
                .WithEnvironment("Node__MaxConcurrentCalls", "1024")
                .WithEnvironment("Logging__LogLevel__Default", "Warning");
        }

        var app = await builder.BuildAsync();
        var gateway = new Gateway(app);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await app.StartAsync(timeout.Token);
            foreach (var name in new[] { "redis", "coordinator", "node-1" })
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
            }

            using var http = new HttpClient();
            while (!(await http.GetStringAsync(new Uri(gateway.CoordinatorMcpUrl, "/api/nodes"), timeout.Token)).Contains("\"id\":\"node-1\"", StringComparison.Ordinal))
            {
                await Task.Delay(100, timeout.Token);
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
    /// The coordinator's, the bare proxy's, the node's and the load generator's CPU time: all on one machine, they
    /// share its cores.
    /// </summary>
    public async Task<IReadOnlyList<CpuProbe>> CpuProbesAsync(BareProxy proxy) =>
    [
        CpuProbe.Of("coordinator", await ServiceProcessIdAsync("coordinator")),
        CpuProbe.Of("proxy", proxy.ProcessId),
        CpuProbe.Of("node", await ServiceProcessIdAsync("node-1")),
        CpuProbe.Of("load", Environment.ProcessId),
    ];

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
