using McpAspire.McpCoordinator.Registry;

namespace McpAspire.McpCoordinator.Routing;

/// <summary>
/// Power-of-two-choices: pick two candidates at random and keep the less loaded. It spreads load
/// nearly as well as always taking the least loaded node, without every coordinator replica
/// stampeding onto the same node between heartbeats.
/// </summary>
public static class LeastLoadedSelector
{
    /// <summary>Chooses one of <paramref name="candidates"/>, or <see langword="null"/> if there are none.</summary>
    /// <param name="candidates">Nodes able to take the call.</param>
    /// <param name="localInFlight">This coordinator's in-flight calls to a node, by node id.</param>
    /// <param name="random">The source of the random choice.</param>
    public static RegisteredNode? Select(IReadOnlyList<RegisteredNode> candidates, Func<string, int> localInFlight, Random random)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(localInFlight);
        ArgumentNullException.ThrowIfNull(random);
        switch (candidates.Count)
        {
            case 0:
                return null;
            case 1:
                return candidates[0];
        }

#pragma warning disable CA5394 // Load spreading needs no cryptographic randomness.
        var first = random.Next(candidates.Count);
        var second = random.Next(candidates.Count - 1);
#pragma warning restore CA5394
        if (second >= first)
        {
            second++;
        }

        var a = candidates[first];
        var b = candidates[second];
        return Load(b, localInFlight) < Load(a, localInFlight) ? b : a;
    }

    /// <summary>The node's load as a fraction of its capacity: its reported load plus this coordinator's own calls.</summary>
    public static double Load(RegisteredNode node, Func<string, int> localInFlight)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(localInFlight);
        return (node.Heartbeat.InFlight + localInFlight(node.Id)) / (double)Math.Max(1, node.Heartbeat.MaxConcurrency);
    }
}
