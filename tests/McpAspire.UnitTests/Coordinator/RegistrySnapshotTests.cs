using McpAspire.McpCoordinator.Registry;
using McpAspire.ServiceDefaults.Cluster;

namespace McpAspire.UnitTests.Coordinator;

public sealed class RegistrySnapshotTests
{
    [Fact]
    public void Tools_are_the_union_of_ready_nodes_sorted_by_name_with_the_first_definition_kept()
    {
        var snapshot = new RegistrySnapshot(
            [
                RegisteredNodes.Create("n1", tools: ["echo", "zeta"]),
                RegisteredNodes.Create("n2", tools: ["echo", "alpha"]),
                RegisteredNodes.Create("n3", status: NodeStatus.Draining, tools: ["draining_only"]),
            ],
            DateTimeOffset.UnixEpoch);

        Assert.Equal(["alpha", "echo", "zeta"], snapshot.Tools.Select(tool => tool.Name));
        Assert.Equal("echo on n1", snapshot.Tools.Single(tool => tool.Name == "echo").Description);
    }

    [Fact]
    public void Nodes_offering_a_tool_include_draining_ones_and_unknown_tools_have_none()
    {
        var snapshot = new RegistrySnapshot(
            [
                RegisteredNodes.Create("n1", tools: ["echo", "zeta"]),
                RegisteredNodes.Create("n2", tools: ["echo"]),
                RegisteredNodes.Create("n3", status: NodeStatus.Draining, tools: ["echo"]),
            ],
            DateTimeOffset.UnixEpoch);

        Assert.Equal(["n1", "n2", "n3"], snapshot.NodesOffering("echo").Select(node => node.Id));
        Assert.Equal(["n1"], snapshot.NodesOffering("zeta").Select(node => node.Id));
        Assert.Empty(snapshot.NodesOffering("nope"));
    }

    [Fact]
    public void A_stale_copy_keeps_the_nodes_and_says_why()
    {
        var fresh = new RegistrySnapshot([RegisteredNodes.Create("n1")], DateTimeOffset.UnixEpoch);

        var stale = fresh.AsStale("Redis is unreachable");

        Assert.True(stale.IsStale);
        Assert.Equal("Redis is unreachable", stale.StaleReason);
        Assert.Same(fresh.Nodes, stale.Nodes);
        Assert.False(fresh.IsStale);
    }
}
