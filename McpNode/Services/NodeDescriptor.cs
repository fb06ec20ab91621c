using System.Reflection;
using McpAspire.Cluster;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpAspire.McpNode.Services;

/// <summary>Who this node is: id, version, packs, tools and the URL the coordinator reaches it on.</summary>
public sealed class NodeDescriptor
{
    private readonly IServer _server;
    private readonly Uri? _publicUrl;
    private Uri? _mcpUrl;

    /// <summary>Creates the descriptor from the node's options and the SDK's tool, resource and prompt collections.</summary>
    public NodeDescriptor(IOptions<NodeOptions> options, IOptions<McpServerOptions> serverOptions, IServer server)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(serverOptions);
        var node = options.Value;
        _server = server;
        _publicUrl = node.PublicUrl;
        Id = string.IsNullOrWhiteSpace(node.Id) ? $"node-{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}" : node.Id;
        Packs = node.PackNames;
        var tools = serverOptions.Value.ToolCollection?.OrderBy(tool => tool.ProtocolTool.Name, StringComparer.Ordinal).ToArray() ?? [];
        Tools = tools.Select(tool => tool.ProtocolTool).ToArray();
        ToolNames = Tools.Select(tool => tool.Name).ToArray();
        Catalog = ToolCatalog.Of(Tools);
        var resources = serverOptions.Value.ResourceCollection?.ToArray() ?? [];
        var prompts = serverOptions.Value.PromptCollection?.Select(prompt => prompt.ProtocolPrompt).OrderBy(prompt => prompt.Name, StringComparer.Ordinal).ToArray() ?? [];
        var primitives = PrimitiveCatalog.Of(
            [.. resources.Where(resource => !resource.IsTemplated).Select(resource => resource.ProtocolResource!).OrderBy(resource => resource.Uri, StringComparer.Ordinal)],
            [.. resources.Where(resource => resource.IsTemplated).Select(resource => resource.ProtocolResourceTemplate).OrderBy(template => template.UriTemplate, StringComparer.Ordinal)],
            prompts);
        Primitives = primitives.Count == 0 ? null : primitives;
        EstimatedDurations = tools.ToDictionary(
            tool => tool.ProtocolTool.Name,
            tool => tool.Metadata.OfType<EstimatedDurationAttribute>().FirstOrDefault()?.Estimate ?? DefaultEstimate,
            StringComparer.Ordinal);
    }

    /// <summary>The estimate of a tool without <see cref="EstimatedDurationAttribute"/>.</summary>
    public const string DefaultEstimate = "under 1 s";

    /// <summary>Each tool's estimated duration, by tool name.</summary>
    public IReadOnlyDictionary<string, string> EstimatedDurations { get; }

    /// <summary>The node's registry id.</summary>
    public string Id { get; }

    /// <summary>The node's informational version.</summary>
    public string Version { get; } =
        typeof(NodeDescriptor).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>The packs served.</summary>
    public IReadOnlyList<string> Packs { get; }

    /// <summary>The protocol definitions of the tools served, by name.</summary>
    public IReadOnlyList<Tool> Tools { get; }

    /// <summary>The tool definitions as the registry stores them, and their hash, which the heartbeat carries.</summary>
    public ToolCatalog Catalog { get; }

    /// <summary>
    /// The resources, resource templates and prompts served, as the registry stores them; <see langword="null"/> when
    /// there are none (the heartbeat then names no record).
    /// </summary>
    public PrimitiveCatalog? Primitives { get; }

    /// <summary>The names of the tools served.</summary>
    public IReadOnlyList<string> ToolNames { get; }

    /// <summary>
    /// The node's MCP endpoint URL: <c>Node:PublicUrl</c>, or the first address Kestrel listens on
    /// plus <c>/mcp</c>. Known only once the server has started.
    /// </summary>
    public Uri? McpUrl => _mcpUrl ??= _publicUrl ?? FromServerAddresses();

    private Uri? FromServerAddresses()
    {
        var address = _server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (address is null || !Uri.TryCreate(address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal), UriKind.Absolute, out var listen))
        {
            return null;
        }

        var builder = new UriBuilder(listen) { Path = "/mcp" };
        if (listen.Host is "0.0.0.0" or "[::]" or "::")
        {
            // A wildcard bind: other machines reach this one by its host name.
            builder.Host = Environment.MachineName.ToLowerInvariant();
        }

        return builder.Uri;
    }
}
