using System.Text.Json;
using McpAspire.Cluster;
using McpAspire.Cluster.Security;
using McpAspire.McpCoordinator.Federation;
using McpAspire.McpCoordinator.Routing;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;

namespace McpAspire.McpCoordinator.Registry;

/// <summary>
/// Reads registry records as a hostile party might have written them: every field is checked, against
/// <see cref="RegistryOptions"/>, the cluster key and the <see cref="NodeUrlPolicy"/>, and no content makes these
/// methods throw. A record that fails says why, in words fit for a log line and <c>/api/nodes</c>.
/// </summary>
public sealed class RegistryRecords(ClusterKeyRing keys, NodeUrlPolicy urls, IOptions<RegistryOptions> options, IOptions<ExternalServersOptions> servers)
{
    /// <summary>The shortest and longest heartbeat TTL a node can be configured with (<c>Node:HeartbeatTtl</c>).</summary>
    private const long MinTtlMilliseconds = 300;

    private const long MaxTtlMilliseconds = 30 * 60 * 1000;

    /// <summary>The most calls a node can run at once (<c>Node:MaxConcurrentCalls</c>), and then queue as many.</summary>
    private const int MaxConcurrency = 100_000;

    private const int MaxNameLength = 64;

    /// <summary>The longest tool name the MCP specification recommends.</summary>
    private const int MaxToolNameLength = 128;

    private const int MaxPacks = 64;

    /// <summary>Whether heartbeats must be signed with the cluster key: <c>Cluster:Key</c> is set.</summary>
    public bool RequiresSignatures => keys.IsEnabled;

    /// <summary>Whether <paramref name="id"/> may be a node id: 1-64 letters, digits, '.', '_' or '-', as <c>Node:Id</c> must be.</summary>
    public static bool IsNodeId(string id) => IsName(id, MaxNameLength, extra: "._-");

    /// <summary>
    /// The heartbeat in <paramref name="record"/>, stored under node <paramref name="id"/>'s key, if it is signed
    /// (when this coordinator has a cluster key), well formed and valid at <paramref name="now"/>.
    /// </summary>
    public NodeHeartbeat? ReadHeartbeat(string id, ReadOnlySpan<byte> record, DateTimeOffset now, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(id);
        var heartbeat = HeartbeatRecord.Read(record, keys, out problem);
        if (heartbeat is null)
        {
            return null;
        }

        problem = Check(id, heartbeat, now);
        return problem is null ? heartbeat : null;
    }

    private string? Check(string id, NodeHeartbeat heartbeat, DateTimeOffset now)
    {
        var limits = options.Value;
        if (heartbeat.Id != id)
        {
            return $"it names node '{HeartbeatRecord.Shorten(heartbeat.Id)}', not the node of its key";
        }

        if (heartbeat.Status is not (NodeStatus.Ready or NodeStatus.Draining))
        {
            return $"its status '{HeartbeatRecord.Shorten(heartbeat.Status)}' is neither '{NodeStatus.Ready}' nor '{NodeStatus.Draining}'";
        }

        if (heartbeat.InFlight is < 0 or > 2 * MaxConcurrency || heartbeat.MaxConcurrency is < 1 or > MaxConcurrency)
        {
            return $"its load ({heartbeat.InFlight} in flight of {heartbeat.MaxConcurrency}) is out of range: in flight 0-{2 * MaxConcurrency}, capacity 1-{MaxConcurrency}";
        }

        if (heartbeat.Version is { } version && !IsName(version, MaxNameLength, extra: "._+-"))
        {
            return "its version is not 1-64 letters, digits, '.', '_', '+' or '-'";
        }

        if (heartbeat.Packs is null || heartbeat.Packs.Count > MaxPacks || heartbeat.Packs.Any(pack => pack is null || !IsName(pack, MaxNameLength, extra: "_-")))
        {
            return $"its packs are not a list of at most {MaxPacks} names of letters, digits, '_' or '-'";
        }

        if (!ToolCatalog.IsHash(heartbeat.ToolsHash))
        {
            return "its tools hash is not a SHA-256 in lower-case hex";
        }

        if (heartbeat.PrimitivesHash is { } primitives && !ToolCatalog.IsHash(primitives))
        {
            return "its resources and prompts hash is not a SHA-256 in lower-case hex";
        }

        if (heartbeat.ToolCount < 0 || heartbeat.ToolCount > limits.MaxToolsPerNode)
        {
            return $"it declares {heartbeat.ToolCount} tools; the most a node may have is {limits.MaxToolsPerNode} (Coordinator:Registry:MaxToolsPerNode)";
        }

        if (heartbeat.TtlMilliseconds is < MinTtlMilliseconds or > MaxTtlMilliseconds)
        {
            return $"its TTL of {heartbeat.TtlMilliseconds} ms is outside {MinTtlMilliseconds} ms to {MaxTtlMilliseconds / 60_000} minutes";
        }

        // Compared before any arithmetic on it, so a send time at the end of the calendar cannot overflow.
        if (heartbeat.SentAt > now + limits.MaxClockSkew)
        {
            return $"it was sent at {heartbeat.SentAt:O}, in the future (more than Coordinator:Registry:MaxClockSkew, {limits.MaxClockSkew.TotalSeconds:0} s, ahead)";
        }

        if (heartbeat.SentAt.AddMilliseconds(heartbeat.TtlMilliseconds) <= now)
        {
            return $"its signature is older than its TTL: sent at {heartbeat.SentAt:O}, valid for {heartbeat.TtlMilliseconds} ms";
        }

        if (heartbeat.McpUrl is null)
        {
            return "it has no MCP URL";
        }

        return heartbeat.Server is { } server
            ? CheckServer(id, heartbeat, server)
            : urls.Check(heartbeat.McpUrl) is { } refused ? $"its MCP URL {HeartbeatRecord.Shorten(heartbeat.McpUrl.ToString())} is refused: {refused}" : null;
    }

    /// <summary>
    /// A record of an external server must be one this coordinator has configured, at the URL configured: calls go
    /// there with this coordinator's own settings, so no record can point it anywhere else.
    /// </summary>
    private string? CheckServer(string id, NodeHeartbeat heartbeat, string server)
    {
        if (!servers.Value.Servers.TryGetValue(server, out var settings))
        {
            return $"it stands for external server '{HeartbeatRecord.Shorten(server)}', which this coordinator does not have in Coordinator:Servers";
        }

        if (id != UpstreamServers.NodeIdOf(server))
        {
            return $"it stands for external server '{server}' under id '{id}', not '{UpstreamServers.NodeIdOf(server)}'";
        }

        return heartbeat.McpUrl != settings.Url
            ? $"it puts external server '{server}' at {HeartbeatRecord.Shorten(heartbeat.McpUrl.ToString())}, not at its configured Url"
            : null;
    }

    /// <summary>
    /// The tool definitions in <paramref name="record"/>, stored under <see cref="ClusterKeys.Tools"/> of
    /// <paramref name="hash"/>, if its content has that hash and every definition is valid. <paramref name="lasting"/>
    /// says whether the problem is in content that has the hash, so reading the record again cannot change the answer.
    /// </summary>
    public NodeTools? ReadTools(string hash, ReadOnlySpan<byte> record, out string? problem, out bool lasting)
    {
        var limits = options.Value;
        return ReadHashed<Tool?[], NodeTools>(
            hash, record, "its tool definitions", limits.MaxToolsBytes, "MaxToolsBytes",
            tools => CheckTools(tools, limits),
            tools => new NodeTools(hash, [.. tools.Select(tool => tool!)]),
            out problem, out lasting);
    }

    /// <summary>
    /// The resources, resource templates and prompts in <paramref name="record"/>, stored under
    /// <see cref="ClusterKeys.Primitives"/> of <paramref name="hash"/>, if its content has that hash and every entry is
    /// valid; <paramref name="lasting"/> as for <see cref="ReadTools"/>.
    /// </summary>
    public NodePrimitives? ReadPrimitives(string hash, ReadOnlySpan<byte> record, out string? problem, out bool lasting)
    {
        var limits = options.Value;
        return ReadHashed<PrimitiveCatalog.Content, NodePrimitives>(
            hash, record, "its resources and prompts", limits.MaxPrimitivesBytes, "MaxPrimitivesBytes",
            content => content is null ? "its resources and prompts are JSON null" : CheckPrimitives(content, limits),
            content => new NodePrimitives(hash, content.Resources, content.ResourceTemplates, content.Prompts),
            out problem, out lasting);
    }

    /// <summary>
    /// A record named by the hash of its content: present, within <paramref name="maxBytes"/>, with that hash, readable
    /// as <typeparamref name="TContent"/>, passing <paramref name="check"/>, and servable (<paramref name="build"/>).
    /// </summary>
    private static T? ReadHashed<TContent, T>(
        string hash,
        ReadOnlySpan<byte> record,
        string what,
        int maxBytes,
        string limitKey,
        Func<TContent?, string?> check,
        Func<TContent, T> build,
        out string? problem,
        out bool lasting)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(hash);
        lasting = false;
        if (record.IsEmpty)
        {
            problem = $"{what} are not in the store";
            return null;
        }

        if (record.Length > maxBytes)
        {
            problem = $"{what} are larger than {maxBytes} bytes (Coordinator:Registry:{limitKey})";
            return null;
        }

        if (ToolCatalog.HashOf(record) != hash)
        {
            problem = $"{what} do not have the hash its heartbeat names";
            return null;
        }

        lasting = true;
        TContent? content;
        try
        {
            content = JsonSerializer.Deserialize<TContent>(record, ClusterJson.Options);
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or NotSupportedException or InvalidOperationException or FormatException)
        {
            problem = $"{what} cannot be read: {HeartbeatRecord.Shorten(ex.Message)}";
            return null;
        }

        problem = check(content);
        if (problem is not null)
        {
            return null;
        }

        try
        {
            return build(content!);
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or NotSupportedException or InvalidOperationException)
        {
            problem = $"{what} cannot be served: {HeartbeatRecord.Shorten(ex.Message)}";
            return null;
        }
    }

    private static string? CheckPrimitives(PrimitiveCatalog.Content content, RegistryOptions limits)
    {
        if (content.Resources is null || content.ResourceTemplates is null || content.Prompts is null)
        {
            return "its resources, templates or prompts are JSON null";
        }

        if (Math.Max(content.Resources.Count, Math.Max(content.ResourceTemplates.Count, content.Prompts.Count)) > limits.MaxPrimitivesPerNode)
        {
            return $"it lists more than {limits.MaxPrimitivesPerNode} resources, templates or prompts (Coordinator:Registry:MaxPrimitivesPerNode)";
        }

        return Unique(content.Resources, resource => resource?.Uri, IsResourceUri, "resource URI")
            ?? Unique(content.ResourceTemplates, template => template?.UriTemplate, template => UriTemplatePattern.Compile(template) is not null, "resource template")
            ?? Unique(content.Prompts, prompt => prompt?.Name, IsToolName, "prompt name");
    }

    /// <summary>The first entry whose key is missing, invalid or there twice, as a problem; <see langword="null"/> when none is.</summary>
    private static string? Unique<T>(IReadOnlyList<T> items, Func<T, string?> key, Func<string, bool> isValid, string what)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (key(item) is not { } value || !isValid(value))
            {
                return $"a {what} is missing or not valid";
            }

            if (!seen.Add(value))
            {
                return $"it lists {what} '{HeartbeatRecord.Shorten(value)}' twice";
            }
        }

        return null;
    }

    private static string? CheckTools(Tool?[]? tools, RegistryOptions limits)
    {
        if (tools is null)
        {
            return "its tool definitions are JSON null";
        }

        if (tools.Length > limits.MaxToolsPerNode)
        {
            return $"it defines {tools.Length} tools; the most a node may have is {limits.MaxToolsPerNode} (Coordinator:Registry:MaxToolsPerNode)";
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tool in tools)
        {
            if (tool?.Name is not { } name || !IsToolName(name))
            {
                return $"a tool name is not 1-{MaxToolNameLength} letters, digits, '_', '-' or '.'";
            }

            if (!names.Add(name))
            {
                return $"it defines tool '{name}' twice";
            }

            if (tool.InputSchema.ValueKind != JsonValueKind.Object || tool.OutputSchema is { ValueKind: not JsonValueKind.Object })
            {
                return $"the schemas of tool '{name}' are not JSON objects";
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="uri"/> is a resource URI the registry accepts: absolute, at most 2048 characters.</summary>
    public static bool IsResourceUri(string? uri) => uri is { Length: > 0 and <= UriTemplatePattern.MaxLength } && Uri.TryCreate(uri, UriKind.Absolute, out _);

    /// <summary>Whether <paramref name="name"/> is a tool (or prompt) name the registry accepts: 1-128 letters, digits, '_', '-' or '.'.</summary>
    public static bool IsToolName(string name) => IsName(name, MaxToolNameLength, extra: "_-.");

    private static bool IsName(string text, int maxLength, string extra)
    {
        if (text.Length is 0 || text.Length > maxLength)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && !extra.Contains(c, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
