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

    /// <summary>Describes this node: id, version, packs, tools and current load.</summary>
    [McpServerTool(Name = "get_capabilities", ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false, UseStructuredContent = true)]
    [Description("Describes the node that answers: its id, version, tool packs, tools, current load, whether it is draining, " +
        "and whether idempotency keys are shared across nodes (redis) or kept on this node only (in-process).")]
    public NodeCapabilities GetCapabilities() => new(
        node.Id,
        node.Version,
        node.Packs,
        node.ToolNames,
        new NodeLoadReport(load.InFlight, load.MaxConcurrency),
        load.IsDraining ? "draining" : "ready",
        idempotency.IsShared ? "redis" : "in-process");
}

/// <summary>The answer of <c>get_capabilities</c>.</summary>
/// <param name="NodeId">The node's registry id.</param>
/// <param name="Version">The node's version.</param>
/// <param name="Packs">The tool packs served.</param>
/// <param name="Tools">The names of the tools served.</param>
/// <param name="Load">The node's load when it answered.</param>
/// <param name="Status"><c>ready</c>, or <c>draining</c> while it finishes its calls before stopping.</param>
/// <param name="Idempotency">
/// Where idempotency keys live: <c>redis</c> (shared, so a retry on any node is recognized) or
/// <c>in-process</c> (no Redis: only retries on this node are).
/// </param>
public sealed record NodeCapabilities(string NodeId, string Version, IReadOnlyList<string> Packs, IReadOnlyList<string> Tools, NodeLoadReport Load, string Status, string Idempotency);

/// <summary>A node's load.</summary>
/// <param name="InFlight">Tool calls running now, including the one asking.</param>
/// <param name="MaxConcurrency">How many calls the node runs at once.</param>
public sealed record NodeLoadReport(int InFlight, int MaxConcurrency);
