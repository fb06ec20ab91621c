using System.Reflection;
using McpAspire.Cluster;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpAspire.McpNode.Services;

/// <summary>
/// Who this node is: id, version, packs, what it offers (tools, resources, templates, prompts) and the URL the
/// coordinator reaches it on. What it offers follows the SDK's collections: a pack that adds or removes tools while
/// the node runs (the stdio bridge) changes it, and <see cref="Changed"/> says so.
/// </summary>
public sealed class NodeDescriptor
{
    private readonly IServer _server;
    private readonly Uri? _publicUrl;
    private readonly McpServerOptions _serverOptions;
    private readonly Lock _gate = new();
    private Uri? _mcpUrl;
    private Offer _offer;

    /// <summary>Creates the descriptor from the node's options and the SDK's tool, resource and prompt collections.</summary>
    public NodeDescriptor(IOptions<NodeOptions> options, IOptions<McpServerOptions> serverOptions, IServer server)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(serverOptions);
        var node = options.Value;
        _server = server;
        _publicUrl = node.PublicUrl;
        _serverOptions = serverOptions.Value;
        Id = string.IsNullOrWhiteSpace(node.Id) ? $"node-{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}" : node.Id;
        Packs = node.PackNames;
        _offer = Offer.Of(_serverOptions);
        foreach (var collection in (IEnumerable<object?>)[_serverOptions.ToolCollection, _serverOptions.ResourceCollection, _serverOptions.PromptCollection])
        {
            switch (collection)
            {
                case McpServerPrimitiveCollection<McpServerTool> tools:
                    tools.Changed += OnCollectionChanged;
                    break;
                case McpServerResourceCollection resources:
                    resources.Changed += OnCollectionChanged;
                    break;
                case McpServerPrimitiveCollection<McpServerPrompt> prompts:
                    prompts.Changed += OnCollectionChanged;
                    break;
            }
        }
    }

    /// <summary>Raised after what the node offers changed.</summary>
    public event Action? Changed;

    /// <summary>The estimate of a tool without <see cref="EstimatedDurationAttribute"/>.</summary>
    public const string DefaultEstimate = "under 1 s";

    /// <summary>What the node offers now, all of it from one moment.</summary>
    public Offer Current => Volatile.Read(ref _offer);

    /// <summary>Each tool's estimated duration, by tool name.</summary>
    public IReadOnlyDictionary<string, string> EstimatedDurations => Current.EstimatedDurations;

    /// <summary>The node's registry id.</summary>
    public string Id { get; }

    /// <summary>The node's informational version.</summary>
    public string Version { get; } =
        typeof(NodeDescriptor).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>The packs served.</summary>
    public IReadOnlyList<string> Packs { get; }

    /// <summary>The protocol definitions of the tools served, by name.</summary>
    public IReadOnlyList<Tool> Tools => Current.Tools;

    /// <summary>The tool definitions as the registry stores them, and their hash, which the heartbeat carries.</summary>
    public ToolCatalog Catalog => Current.Catalog;

    /// <summary>
    /// The resources, resource templates and prompts served, as the registry stores them; <see langword="null"/> when
    /// there are none (the heartbeat then names no record).
    /// </summary>
    public PrimitiveCatalog? Primitives => Current.Primitives;

    /// <summary>The names of the tools served.</summary>
    public IReadOnlyList<string> ToolNames => Current.ToolNames;

    private void OnCollectionChanged(object? sender, EventArgs e)
    {
        lock (_gate)
        {
            Volatile.Write(ref _offer, Offer.Of(_serverOptions));
        }

        Changed?.Invoke();
    }

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

    /// <summary>What a node offers at one moment.</summary>
    /// <param name="Tools">The tools' protocol definitions, by name.</param>
    /// <param name="Catalog">The tool definitions record.</param>
    /// <param name="Primitives">The record of resources, templates and prompts; <see langword="null"/> when there are none.</param>
    /// <param name="EstimatedDurations">Each tool's estimated duration, by name.</param>
    public sealed record Offer(IReadOnlyList<Tool> Tools, ToolCatalog Catalog, PrimitiveCatalog? Primitives, IReadOnlyDictionary<string, string> EstimatedDurations)
    {
        /// <summary>The names of the tools.</summary>
        public IReadOnlyList<string> ToolNames { get; } = [.. Tools.Select(tool => tool.Name)];

        /// <summary>What <paramref name="server"/>'s collections hold now.</summary>
        public static Offer Of(McpServerOptions server)
        {
            var tools = server.ToolCollection?.OrderBy(tool => tool.ProtocolTool.Name, StringComparer.Ordinal).ToArray() ?? [];
            var definitions = tools.Select(tool => tool.ProtocolTool).ToArray();
            var resources = server.ResourceCollection?.ToArray() ?? [];
            var primitives = PrimitiveCatalog.Of(
                [.. resources.Where(resource => !resource.IsTemplated).Select(resource => resource.ProtocolResource!).OrderBy(resource => resource.Uri, StringComparer.Ordinal)],
                [.. resources.Where(resource => resource.IsTemplated).Select(resource => resource.ProtocolResourceTemplate).OrderBy(template => template.UriTemplate, StringComparer.Ordinal)],
                [.. (server.PromptCollection ?? []).Select(prompt => prompt.ProtocolPrompt).OrderBy(prompt => prompt.Name, StringComparer.Ordinal)]);
            return new Offer(
                definitions,
                ToolCatalog.Of(definitions),
                primitives.Count == 0 ? null : primitives,
                tools.ToDictionary(
                    tool => tool.ProtocolTool.Name,
                    tool => tool.Metadata.OfType<EstimatedDurationAttribute>().FirstOrDefault()?.Estimate ?? DefaultEstimate,
                    StringComparer.Ordinal));
        }
    }
}
