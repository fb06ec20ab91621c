using McpAspire.AppHost.Hosting;
using McpAspire.Cluster;

namespace McpAspire.UnitTests.AppHost;

public sealed class NodeDrainCommandsTests
{
    [Theory]
    [InlineData("node-1")]
    [InlineData("node-12.eu_west")]
    public void The_apphost_writes_the_drain_key_the_node_reads(string nodeId) =>
        Assert.Equal(ClusterKeys.DrainRequest(nodeId), NodeDrainCommands.DrainKey(nodeId));
}
