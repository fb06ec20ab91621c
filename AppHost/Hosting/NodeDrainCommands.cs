using StackExchange.Redis;

namespace McpAspire.AppHost.Hosting;

/// <summary>
/// The dashboard's Drain and Resume commands on a node. Drain sets the node's drain key in the store; the node
/// sees it at its next heartbeat, takes no new calls, finishes those in flight and reports <c>draining</c>, so
/// the coordinator routes around it while it keeps running. Resume deletes the key and the node is ready again.
/// </summary>
public static class NodeDrainCommands
{
    /// <summary>The name of the Drain command.</summary>
    public const string Drain = "drain";

    /// <summary>The name of the Resume command.</summary>
    public const string Resume = "resume";

    /// <summary>
    /// The node's drain key. The node reads it under the same name (<c>ClusterKeys.DrainRequest</c> in
    /// ServiceDefaults); a unit test keeps the two in step.
    /// </summary>
    public static string DrainKey(string nodeId) => $"mcpaspire:drain:{nodeId}";

    /// <summary>Adds Drain and Resume to <paramref name="node"/>, which writes its drain key to <paramref name="store"/>.</summary>
    public static IResourceBuilder<ProjectResource> WithDrainCommands(this IResourceBuilder<ProjectResource> node, IResourceBuilder<IResourceWithConnectionString> store)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(store);
        var key = DrainKey(node.Resource.Name);
        node.WithCommand(Drain, "Drain", context => SendAsync(store.Resource, key, drain: true, context.CancellationToken), new CommandOptions
        {
            Description = "Take no new calls and finish those in flight, without stopping; the coordinator routes around the node.",
            IconName = "ArrowExit",
            UpdateState = WhenRunning,
        });
        node.WithCommand(Resume, "Resume", context => SendAsync(store.Resource, key, drain: false, context.CancellationToken), new CommandOptions
        {
            Description = "Take calls again after Drain.",
            IconName = "ArrowEnter",
            UpdateState = WhenRunning,
        });
        return node;
    }

    private static ResourceCommandState WhenRunning(UpdateCommandStateContext context) =>
        context.ResourceSnapshot.State?.Text == KnownResourceStates.Running ? ResourceCommandState.Enabled : ResourceCommandState.Disabled;

    private static async Task<ExecuteCommandResult> SendAsync(IResourceWithConnectionString store, string key, bool drain, CancellationToken cancellationToken)
    {
        var connectionString = await store.GetConnectionStringAsync(cancellationToken).ConfigureAwait(false);
        if (connectionString is null)
        {
            return CommandResults.Failure($"The store '{store.Name}' has no connection string yet.");
        }

        try
        {
            await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionString).ConfigureAwait(false);
            var database = redis.GetDatabase();
            if (drain)
            {
                await database.StringSetAsync(key, "requested from the AppHost").ConfigureAwait(false);
            }
            else
            {
                await database.KeyDeleteAsync(key).ConfigureAwait(false);
            }

            return CommandResults.Success();
        }
        catch (Exception ex) when (ex is RedisException or RedisTimeoutException)
        {
            return CommandResults.Failure($"The store did not take the request: {ex.Message}");
        }
    }
}
