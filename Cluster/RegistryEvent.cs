namespace McpAspire.Cluster;

/// <summary>
/// What a node announces on <see cref="ClusterKeys.EventsChannel"/> when its registration changes, so
/// coordinators re-read the registry at once instead of at their next refresh. Delivery is at most once:
/// a coordinator that misses one still sees the change at its next periodic read.
/// </summary>
/// <param name="Event">One of <see cref="Joined"/>, <see cref="Draining"/>, <see cref="Resumed"/>, <see cref="OfferChanged"/> or <see cref="Left"/>.</param>
/// <param name="NodeId">The node the event is about.</param>
public sealed record RegistryEvent(string Event, string NodeId)
{
    /// <summary>The node registered.</summary>
    public const string Joined = "join";

    /// <summary>The node is stopping, or was asked to drain: it takes no new calls and finishes those in flight.</summary>
    public const string Draining = "drain";

    /// <summary>The node was asked to drain, and that request was withdrawn: it takes calls again.</summary>
    public const string Resumed = "resume";

    /// <summary>What the node offers (tools, resources, prompts) changed while it ran; its heartbeat names the new records.</summary>
    public const string OfferChanged = "offer";

    /// <summary>The node deregistered.</summary>
    public const string Left = "leave";
}
