using McpAspire.Cluster;
using McpAspire.Cluster.Security;
using McpAspire.Mcp;
using McpAspire.McpCoordinator.Federation;
using McpAspire.McpCoordinator.Registry;
using McpAspire.McpCoordinator.Routing;
using McpAspire.McpCoordinator.Security;
using McpAspire.McpCoordinator.Sessions;
using McpAspire.ServiceDefaults.Hosting;
using Microsoft.Extensions.Options;
using ModelContextProtocol.AspNetCore;

namespace McpAspire.McpCoordinator;

/// <summary>Composes the coordinator: options, the registry, routing and forwarding.</summary>
public static class CoordinatorServiceExtensions
{
    /// <summary>Adds everything the coordinator needs on top of the service defaults. Requires <c>ConnectionStrings:redis</c>.</summary>
    /// <exception cref="InvalidConfigurationException">No Redis connection string is configured.</exception>
    public static WebApplicationBuilder AddMcpCoordinator(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.AddClusterStore())
        {
            throw new InvalidConfigurationException(
                "ConnectionStrings:redis is not set. The coordinator reads the node registry from Redis; set it (e.g. ConnectionStrings__redis=localhost:6379) or start the cluster with the AppHost.");
        }

        builder.Services.AddOptions<CoordinatorOptions>()
            .BindConfiguration(CoordinatorOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<CoordinatorOptions>, SessionKeyValidation>();
        builder.Services.AddOptions<RegistryOptions>()
            .BindConfiguration(RegistryOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<ExternalServersOptions>()
            .BindConfiguration(ExternalServersOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<NodeUrlOptions>()
            .BindConfiguration(NodeUrlOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.AddClusterKeys();
        builder.AddCoordinatorSecurity();
        builder.Services.AddSingleton<NodeUrlPolicy>();
        builder.Services.AddSingleton<RegistryRecords>();
        builder.Services.AddMcpEndpointOptions()
            .AddOptions<McpEndpointOptions>()
            .Validate(
                endpoint => endpoint.Mode != HttpServerSessionMode.StatefulForInitializeClients,
                "Mcp:SessionMode=StatefulForInitializeClients is for nodes; a coordinator is Stateless or Stateful (Mcp:Stateless or Mcp:SessionMode).");
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<RegistryChanges>();
        builder.Services.AddSingleton<NodeRegistry>();
        builder.Services.AddHostedService(services => services.GetRequiredService<NodeRegistry>());
        builder.Services.AddSingleton<LocalCallTracker>();
        builder.Services.AddSingleton<NodeBreakers>();
        builder.Services.AddHostedService<NodeStatePruner>();
        builder.Services.AddSingleton<ToolRouter>();
        builder.Services.AddSingleton<NodeForwarder>();
        builder.Services.AddSingleton<INodeProbe, NodeProbe>();
        builder.Services.AddSingleton<UpstreamServers>();
        builder.Services.AddSingleton<ExternalServerMonitor>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ExternalServerMonitor>());
        builder.Services.AddSingleton<PinnedSessionIds>();
        CallAudit.Add(builder);
        builder.Services.AddSingleton<SessionQuota>();
        builder.Services.AddSingleton<McpGateway>();
        return builder;
    }
}
