using McpAspire.Tests.Shared;

namespace McpAspire.EndToEndTests;

/// <summary>
/// The official MCP conformance suite (<c>@modelcontextprotocol/conformance</c> 0.1.16, on Node 22 from
/// npm), run against a node process serving the <c>conformance</c> pack in stateful mode, and against the
/// stateful coordinator in front of it. Every check of every active scenario must pass. Some of its checks
/// are weak; ConformancePackTests pins the answers.
/// </summary>
public sealed class ConformanceSuiteTests(ConformanceSuiteTests.ConformanceCluster fixture) : IClassFixture<ConformanceSuiteTests.ConformanceCluster>
{
    /// <summary>One stateful node serving the conformance pack, behind a stateful coordinator.</summary>
    public sealed class ConformanceCluster : IAsyncLifetime
    {
        public TestCluster Cluster { get; private set; } = null!;

        public async ValueTask InitializeAsync() =>
            // The suite also runs against the node itself, which then must take calls without the coordinator's credential.
            Cluster = await TestCluster.StartAsync(1, ("Node__Packs", "core,conformance"), ("Mcp__Stateless", "false"), ("Node__RequireClusterCredential", "false"));

        public ValueTask DisposeAsync() => Cluster.DisposeAsync();
    }

    [Theory]
    [InlineData("node")]
    [InlineData("coordinator")]
    public async Task Every_active_scenario_of_the_official_suite_passes(string target) =>
        await ConformanceSuite.RequirePassAsync(
            Repository.InteropDirectory,
            target == "coordinator" ? fixture.Cluster.CoordinatorMcpUrl : fixture.Cluster.McpUrlOf("node-1"));
}
