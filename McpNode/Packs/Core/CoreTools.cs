using System.ComponentModel;
using McpAspire.McpNode.Packs.Transactions;
using McpAspire.McpNode.Services;
using ModelContextProtocol.Server;

namespace McpAspire.McpNode.Packs.Core;

/// <summary>The <c>core</c> pack: what every node serves.</summary>
[McpServerToolType]
public sealed class CoreTools(NodeDescriptor node, NodeLoad load, IIdempotencyStore idempotency)
{
    /// <summary>Returns the message unchanged.</summary>
    [McpServerTool(Name = "echo", ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("Returns the message unchanged. Useful to check connectivity and to measure round trips.")]
    public static string Echo([Description("The text to send back.")] string message) => message;

    /// <summary>Describes this node: service, version, packs, tools with estimated durations, features, health and load.</summary>
    [McpServerTool(Name = "get_capabilities", ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false, UseStructuredContent = true)]
    [Description("Describes the node that answers: service name and version, tool packs, each tool with its estimated duration, " +
        "the features it supports (progress, cancellation, and whether idempotency keys are shared across nodes), its health and its load.")]
    public NodeCapabilities GetCapabilities() => new(
        Service: "McpAspire.McpNode",
        NodeId: node.Id,
        Version: node.Version,
        Packs: node.Packs,
        Tools: [.. node.ToolNames.Select(name => new ToolCapability(name, node.EstimatedDurations[name]))],
        Features: new NodeFeatures(Progress: true, Cancellation: true, Idempotency: idempotency.IsShared ? "redis" : "in-process"),
        Health: load.IsDraining ? "draining" : "ready",
        Load: new NodeLoadReport(load.InFlight, load.MaxConcurrency));
}

/// <summary>The answer of <c>get_capabilities</c>.</summary>
/// <param name="Service">The service's name.</param>
/// <param name="NodeId">The node's registry id.</param>
/// <param name="Version">The node's version.</param>
/// <param name="Packs">The tool packs served.</param>
/// <param name="Tools">The tools served, with their estimated durations.</param>
/// <param name="Features">What the node supports.</param>
/// <param name="Health"><c>ready</c>, or <c>draining</c> while it finishes its calls before stopping.</param>
/// <param name="Load">The node's load when it answered.</param>
public sealed record NodeCapabilities(string Service, string NodeId, string Version, IReadOnlyList<string> Packs, IReadOnlyList<ToolCapability> Tools, NodeFeatures Features, string Health, NodeLoadReport Load);

/// <summary>One tool and how long it usually takes.</summary>
/// <param name="Name">The tool's name.</param>
/// <param name="EstimatedDuration">How long it usually takes, in words.</param>
public sealed record ToolCapability(string Name, string EstimatedDuration);

/// <summary>What a node supports.</summary>
/// <param name="Progress">Tools that take a while report progress when the client asks for it.</param>
/// <param name="Cancellation">Calls stop when cancelled.</param>
/// <param name="Idempotency">
/// Where idempotency keys live: <c>redis</c> (shared, so a retry on any node is recognized) or
/// <c>in-process</c> (no Redis: only retries on this node are).
/// </param>
public sealed record NodeFeatures(bool Progress, bool Cancellation, string Idempotency);

/// <summary>A node's load.</summary>
/// <param name="InFlight">Tool calls running now, including the one asking.</param>
/// <param name="MaxConcurrency">How many calls the node runs at once.</param>
public sealed record NodeLoadReport(int InFlight, int MaxConcurrency);
