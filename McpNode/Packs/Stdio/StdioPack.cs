using ModelContextProtocol.Server;

namespace McpAspire.McpNode.Packs.Stdio;

/// <summary>The <c>stdio</c> pack: a stdio MCP server run by the node and served through it (<see cref="StdioBridge"/>).</summary>
public static class StdioPack
{
    /// <summary>The pack's name, in <c>Node:Packs</c> and in the tools' <c>_meta</c>.</summary>
    public const string Name = "stdio";

    /// <summary>Adds the bridge, its options and its health check to the node's MCP server.</summary>
    public static IMcpServerBuilder AddStdioBridge(this IMcpServerBuilder server)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.Services.AddOptions<StdioOptions>()
            .BindConfiguration(StdioOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        server.Services.Configure<McpServerOptions>(options => options.ToolCollection ??= []);
        server.Services.AddSingleton<StdioBridge>();
        server.Services.AddHostedService(services => services.GetRequiredService<StdioBridge>());
        server.Services.AddHealthChecks().Add(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckRegistration(
            "stdio", services => services.GetRequiredService<StdioBridge>(), failureStatus: null, tags: ["ready"]));
        return server;
    }
}
