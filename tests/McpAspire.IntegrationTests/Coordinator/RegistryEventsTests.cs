using System.Text.Json.Nodes;
using McpAspire.IntegrationTests.Infrastructure;

namespace McpAspire.IntegrationTests.Coordinator;

/// <summary>
/// Nodes announce joining and leaving on Redis pub/sub, and the coordinator re-reads the registry at once.
/// Its periodic refresh is set to ten minutes here, so only the announcements can make the changes visible.
/// </summary>
public sealed class RegistryEventsTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_node_that_joins_or_leaves_is_seen_without_waiting_for_the_refresh()
    {
        await using var store = await StoreServer.StartGarnetAsync();
        await using var coordinator = TestServices.StartCoordinator(store.ConnectionString, ("Coordinator:RegistryRefreshInterval", "00:10:00"));
        using var http = new HttpClient();
        await Eventually.UntilAsync(async () => (await NodesAsync(http, coordinator))["readAt"] is not null);

        var node = TestServices.StartNode(("ConnectionStrings:redis", store.ConnectionString), ("Node:Id", "announcer"));
        await Eventually.UntilAsync(async () => Ids(await NodesAsync(http, coordinator)).Contains("announcer"));
        await node.DisposeAsync();
        await Eventually.UntilAsync(async () => !Ids(await NodesAsync(http, coordinator)).Contains("announcer"));
    }

    private static async Task<JsonNode> NodesAsync(HttpClient http, ServiceHost<McpCoordinator.CoordinatorOptions> coordinator) =>
        JsonNode.Parse(await http.GetStringAsync(new Uri(coordinator.BaseUrl, "/api/nodes"), Cancel))!;

    private static string[] Ids(JsonNode nodes) => [.. nodes["nodes"]!.AsArray().Select(node => node!["id"]!.GetValue<string>())];
}
