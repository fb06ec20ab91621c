using McpAspire.Cluster;
using McpAspire.Cluster.Security;
using McpAspire.Mcp;
using McpAspire.McpNode.Packs;
using McpAspire.McpNode.Packs.Files;
using McpAspire.McpNode.Packs.Http;
using McpAspire.McpNode.Packs.Transactions;
using McpAspire.McpNode.Security;
using McpAspire.McpNode.Services;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using StackExchange.Redis;

namespace McpAspire.McpNode;

/// <summary>Composes a node: options, tool packs, load tracking and, with Redis, the heartbeat.</summary>
public static partial class NodeServiceExtensions
{
    /// <summary>Adds everything a node needs on top of the service defaults.</summary>
    public static WebApplicationBuilder AddMcpNode(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<NodeOptions>()
            .BindConfiguration(NodeOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.AddClusterKeys();
        builder.Services.AddSingleton<NodeLoad>();
        builder.Services.AddSingleton<IMcpCallAdmission>(services => services.GetRequiredService<NodeLoad>());
        builder.Services.AddHealthChecks().AddCheck<DrainingHealthCheck>("draining", tags: ["ready"]);
        builder.Services.AddSingleton<NodeDescriptor>();
        builder.Services.AddSingleton<CallLimits>();
        builder.Services.AddSingleton(TimeProvider.System);

        var options = builder.Configuration.GetSection(NodeOptions.SectionName).Get<NodeOptions>() ?? new NodeOptions();
        var clusterKey = builder.Configuration.GetSection(ClusterOptions.SectionName).Get<ClusterOptions>()?.Key;
        builder.Services.AddOptions<NodeOptions>()
            .Validate(node => node.RequireClusterCredential != true || !string.IsNullOrWhiteSpace(clusterKey), "Node:RequireClusterCredential is true, but Cluster:Key is not set: the node would refuse every call.");
        if (options.RequireClusterCredential ?? !string.IsNullOrWhiteSpace(clusterKey))
        {
            builder.Services.AddClusterCredentialAuthentication();
        }

        var packs = options.PackNames.Where(ToolPacks.IsKnown).Select(ToolPacks.Get).ToArray();
        builder.AddMcpEndpoint();
        var sessionPacks = packs.Where(pack => pack.NeedsSession).Select(pack => pack.Name).ToArray();
        builder.Services.AddOptions<McpEndpointOptions>()
            .Validate(
                endpoint => sessionPacks.Length == 0 || endpoint.Mode != HttpServerSessionMode.Stateless,
                $"Node:Packs includes '{string.Join("', '", sessionPacks)}', which needs sessions: set Mcp:Stateless=false (or Mcp:SessionMode).");
        var mcpServer = builder.Services
            .AddMcpServer(server =>
            {
                server.ServerInfo = new Implementation { Name = "McpAspire.McpNode", Version = typeof(NodeOptions).Assembly.GetName().Version?.ToString(3) ?? "0.0.0" };
            })
            .WithHttpTransport()
            .WithTools(packs.Select(pack => pack.ToolType).OfType<Type>())
            .WithRequestFilters(filters => filters.AddCallToolFilter(next => (context, cancellationToken) =>
                context.Services!.GetRequiredService<CallLimits>().RunAsync(context, next, cancellationToken)));
        foreach (var pack in packs)
        {
            pack.Extend?.Invoke(mcpServer);
        }

        builder.Services.PostConfigure<McpServerOptions>(server => ToolPacks.NameTheirTools(server, packs));

        builder.Services.AddOptions<FilesOptions>()
            .BindConfiguration(FilesOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(files => !options.PackNames.Contains("files") || files.Roots.Count > 0, "Files:Roots must list at least one root when Node:Packs includes 'files'.")
            .ValidateOnStart();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddSingleton<FileSandbox>();
        builder.Services.AddSingleton<FileAuditLog>();
        builder.Services.AddOptions<HttpPackOptions>()
            .BindConfiguration(HttpPackOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(http => !options.PackNames.Contains("http") || http.UpstreamBaseUrl is not null, "HttpPack:UpstreamBaseUrl must be set when Node:Packs includes 'http'.")
            .ValidateOnStart();
        builder.Services.AddSingleton<LastGoodAnswers>();
        // The standard resilience pipeline comes from the service defaults, like every factory client's.
        // No redirects: a redirect could lead anywhere, and the allowlist covers the upstream only.
        builder.Services.AddHttpClient(HttpTools.ClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        builder.Services.AddOptions<TransactionOptions>()
            .BindConfiguration(TransactionOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (builder.AddClusterStore())
        {
            builder.Services.AddHostedService<HeartbeatPublisher>();
            builder.Services.AddSingleton<IIdempotencyStore, RedisIdempotencyStore>();
            builder.Services.AddSingleton(services => new TransactionLedger(services.GetRequiredService<IConnectionMultiplexer>()));
        }
        else
        {
            builder.Services.AddHostedService<StandaloneNotice>();
            builder.Services.AddSingleton(_ => new TransactionLedger(null));
            builder.Services.AddSingleton<IIdempotencyStore, InMemoryIdempotencyStore>();
        }

        return builder;
    }
}
