using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace McpAspire.AppHost.Hosting;

/// <summary>
/// MCP servers nobody here wrote, as resources of the application model: visible in the dashboard with their logs
/// and health, and served through the coordinator next to the nodes' tools. An HTTP server (started from a command,
/// or running elsewhere at a URL) goes in the coordinator's <c>Coordinator:Servers</c> with
/// <see cref="WithExternalMcpServer(IResourceBuilder{ProjectResource}, IResourceBuilder{ExecutableResource}, string?)"/>;
/// a stdio server runs inside a bridge node, which joins the cluster like any node.
/// </summary>
public static partial class McpServiceBuilderExtensions
{
    /// <summary>
    /// Adds an MCP server that speaks Streamable HTTP, started by the AppHost from <paramref name="command"/> (<c>npx</c>,
    /// <c>uvx</c>, an executable) with <paramref name="args"/>. It is told its port in the environment variable
    /// <paramref name="portVariable"/>, and serves MCP at <paramref name="path"/>. Its health in the dashboard is a
    /// JSON-RPC <c>ping</c>: any HTTP answer short of a server error. It listens on <paramref name="port"/>, or one
    /// chosen for it.
    /// </summary>
    public static IResourceBuilder<ExecutableResource> AddHttpMcpServer(
        this IDistributedApplicationBuilder builder,
        string name,
        string command,
        IEnumerable<string> args,
        string portVariable = "PORT",
        string path = McpPath,
        string? workingDirectory = null,
        int? port = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(args);
        var server = builder.AddExecutable(name, command, workingDirectory ?? builder.AppHostDirectory, [.. args])
            .WithHttpEndpoint(port: port, targetPort: port, name: "http", env: portVariable, isProxied: false)
            .WithAnnotation(new McpServerPathAnnotation(path));
        var endpoint = server.GetEndpoint("http");
        return server.WithMcpHealthCheck(() => new Uri(endpoint.Url.TrimEnd('/') + path));
    }

    /// <summary>
    /// Adds an MCP server that already runs elsewhere, at <paramref name="mcpUrl"/> (its MCP endpoint), shown in the
    /// dashboard with a <c>ping</c> health check.
    /// </summary>
    public static IResourceBuilder<ExternalServiceResource> AddExternalMcpServer(this IDistributedApplicationBuilder builder, string name, Uri mcpUrl)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(mcpUrl);
        return builder.AddExternalService(name, new Uri(mcpUrl, "/"))
            .WithAnnotation(new McpServerPathAnnotation(mcpUrl.AbsolutePath))
            .WithMcpHealthCheck(() => mcpUrl);
    }

    /// <summary>
    /// Adds a stdio MCP server, run by a bridge node (the node's <c>stdio</c> pack) that joins the cluster in
    /// <paramref name="store"/>: its tools are served through the coordinator like the nodes'. The node's health in the
    /// dashboard includes the child's: unhealthy while it is being restarted.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddStdioMcpServer(
        this IDistributedApplicationBuilder builder,
        string name,
        IResourceBuilder<IResourceWithConnectionString> store,
        IResourceBuilder<ParameterResource> clusterKey,
        string command,
        IEnumerable<string> args)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(args);
        var bridge = builder.AddProject<Projects.McpAspire_McpNode>(name)
            .WithServiceEndpoint(port: 0)
            .WithStore(store)
            .WithEnvironment("Cluster__Key", clusterKey)
            .WithEnvironment("Node__Id", name)
            .WithEnvironment("Node__Packs", "stdio")
            .WithEnvironment("Stdio__Command", command)
            .WithHealthProbes();
        var index = 0;
        foreach (var arg in args)
        {
            bridge.WithEnvironment($"Stdio__Args__{index++}", arg);
        }

        return bridge;
    }

    /// <summary>Has the coordinator serve the tools of the HTTP MCP server <paramref name="server"/>, under <paramref name="prefix"/> if given.</summary>
    public static IResourceBuilder<ProjectResource> WithExternalMcpServer(
        this IResourceBuilder<ProjectResource> coordinator, IResourceBuilder<ExecutableResource> server, string? prefix = null)
    {
        ArgumentNullException.ThrowIfNull(coordinator);
        ArgumentNullException.ThrowIfNull(server);
        var endpoint = server.GetEndpoint("http");
        return coordinator.WithServerSettings(server.Resource, ReferenceExpression.Create($"{endpoint}{PathOf(server.Resource)}"), prefix);
    }

    /// <summary>Has the coordinator serve the tools of the MCP server at a URL, <paramref name="server"/>, under <paramref name="prefix"/> if given.</summary>
    public static IResourceBuilder<ProjectResource> WithExternalMcpServer(
        this IResourceBuilder<ProjectResource> coordinator, IResourceBuilder<ExternalServiceResource> server, string? prefix = null)
    {
        ArgumentNullException.ThrowIfNull(coordinator);
        ArgumentNullException.ThrowIfNull(server);
        var url = new Uri(server.Resource.Uri!, PathOf(server.Resource));
        return coordinator.WithServerSettings(server.Resource, ReferenceExpression.Create($"{url.ToString()}"), prefix);
    }

    private static IResourceBuilder<ProjectResource> WithServerSettings(this IResourceBuilder<ProjectResource> coordinator, IResource server, ReferenceExpression url, string? prefix)
    {
        coordinator.WithEnvironment($"Coordinator__Servers__{server.Name}__Url", url);
        if (prefix is not null)
        {
            coordinator.WithEnvironment($"Coordinator__Servers__{server.Name}__Prefix", prefix);
        }

        // The coordinator probes the server itself and follows it coming and going; it need not wait for it.
        return coordinator.WithRelationship(server, "Serves");
    }

    private static string PathOf(IResource server) =>
        server.Annotations.OfType<McpServerPathAnnotation>().LastOrDefault()?.Path ?? McpPath;

    private static IResourceBuilder<T> WithMcpHealthCheck<T>(this IResourceBuilder<T> server, Func<Uri> mcpUrl)
        where T : IResource
    {
        var key = $"{server.Resource.Name}-mcp-ping";
        server.ApplicationBuilder.Services.AddHealthChecks().Add(new HealthCheckRegistration(key, _ => new McpPingHealthCheck(mcpUrl), failureStatus: null, tags: null));
        return server.WithHealthCheck(key);
    }

    /// <summary>Where a server added here serves MCP.</summary>
    private sealed record McpServerPathAnnotation(string Path) : IResourceAnnotation;
}
