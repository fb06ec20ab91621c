using System.Text.Json;
using McpAspire.Cluster;
using ModelContextProtocol.Protocol;

namespace McpAspire.McpCoordinator.Registry;

/// <summary>
/// One node's (or external server's) resources, resource templates and prompts, as read from a
/// <see cref="PrimitiveCatalog"/> record and checked; <see cref="None"/> for one that serves none.
/// </summary>
public sealed class NodePrimitives
{
    private readonly Dictionary<string, JsonElement> _resources;
    private readonly Dictionary<string, JsonElement> _templates;
    private readonly Dictionary<string, JsonElement> _prompts;

    /// <summary>Wraps checked lists: keys unique, each entry serializable.</summary>
    public NodePrimitives(string? hash, IReadOnlyList<Resource> resources, IReadOnlyList<ResourceTemplate> templates, IReadOnlyList<Prompt> prompts)
    {
        ArgumentNullException.ThrowIfNull(resources);
        ArgumentNullException.ThrowIfNull(templates);
        ArgumentNullException.ThrowIfNull(prompts);
        Hash = hash;
        Resources = resources;
        Templates = templates;
        Prompts = prompts;
        _resources = Index(resources, resource => resource.Uri);
        _templates = Index(templates, template => template.UriTemplate);
        _prompts = Index(prompts, prompt => prompt.Name);
    }

    /// <summary>A node that serves no resources, templates or prompts.</summary>
    public static NodePrimitives None { get; } = new(null, [], [], []);

    /// <summary>The hash of the record they came from; <see langword="null"/> for <see cref="None"/>.</summary>
    public string? Hash { get; }

    /// <summary>The resources.</summary>
    public IReadOnlyList<Resource> Resources { get; }

    /// <summary>The resource templates.</summary>
    public IReadOnlyList<ResourceTemplate> Templates { get; }

    /// <summary>The prompts.</summary>
    public IReadOnlyList<Prompt> Prompts { get; }

    /// <summary>The JSON definition of the resource at <paramref name="uri"/>, if listed.</summary>
    public JsonElement? ResourceDefinition(string uri) => _resources.TryGetValue(uri, out var json) ? json : null;

    /// <summary>The JSON definition of the template <paramref name="uriTemplate"/>, if listed.</summary>
    public JsonElement? TemplateDefinition(string uriTemplate) => _templates.TryGetValue(uriTemplate, out var json) ? json : null;

    /// <summary>The JSON definition of the prompt <paramref name="name"/>, if listed.</summary>
    public JsonElement? PromptDefinition(string name) => _prompts.TryGetValue(name, out var json) ? json : null;

    private static Dictionary<string, JsonElement> Index<T>(IReadOnlyList<T> items, Func<T, string> key)
    {
        var index = new Dictionary<string, JsonElement>(items.Count, StringComparer.Ordinal);
        foreach (var item in items)
        {
            index.TryAdd(key(item), JsonSerializer.SerializeToElement(item, ClusterJson.Options));
        }

        return index;
    }
}
