using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace McpAspire.EndToEndTests;

/// <summary>
/// The official MCP conformance suite (<c>@modelcontextprotocol/conformance</c> 0.1.16, on Node 22 from
/// npm), run against a node process serving the <c>conformance</c> pack in stateful mode, and against the
/// stateful coordinator in front of it. Every check of every active scenario must pass. Some of its checks
/// are weak; ConformancePackTests pins the answers.
/// </summary>
public sealed partial class ConformanceSuiteTests(ConformanceSuiteTests.ConformanceCluster fixture) : IClassFixture<ConformanceSuiteTests.ConformanceCluster>
{
    private static readonly string Node22 = Path.Combine(Repository.InteropDirectory, "node_modules", "node", "bin", "node");
    private static readonly string Suite = Path.Combine(Repository.InteropDirectory, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js");

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

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
    public async Task Every_active_scenario_of_the_official_suite_passes(string target)
    {
        RequireSuite();
        var url = target == "coordinator"
            ? fixture.Cluster.CoordinatorMcpUrl
            : fixture.Cluster.McpUrlOf("node-1");

        var (exitCode, output) = await RunSuiteAsync(url);

        var total = TotalLine().Match(output);
        Assert.True(total.Success, $"The suite printed no total:\n{output}");
        var passed = int.Parse(total.Groups["passed"].Value, CultureInfo.InvariantCulture);
        var failed = int.Parse(total.Groups["failed"].Value, CultureInfo.InvariantCulture);
        Assert.True(exitCode == 0 && failed == 0, $"The suite failed ({exitCode}):\n{output}");

        // 0.1.16's active suite has 30 scenarios and 40 checks; fewer means scenarios did not run.
        Assert.True(passed >= 40, $"Only {passed} checks ran:\n{output}");
    }

    private static async Task<(int ExitCode, string Output)> RunSuiteAsync(Uri mcpUrl)
    {
        var info = new ProcessStartInfo(Node22, [Suite, "server", "--url", mcpUrl.ToString()])
        {
            WorkingDirectory = Repository.InteropDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var suite = Process.Start(info)!;
        var output = suite.StandardOutput.ReadToEndAsync(Cancel);
        var errors = suite.StandardError.ReadToEndAsync(Cancel);
        await suite.WaitForExitAsync(Cancel).WaitAsync(TimeSpan.FromMinutes(3), Cancel);
        return (suite.ExitCode, await output + await errors);
    }

    private static void RequireSuite()
    {
        if (File.Exists(Node22) && File.Exists(Suite))
        {
            return;
        }

        var missing = $"Needs 'npm ci' in {Repository.InteropDirectory} (.ci/run does it): Node 22 and @modelcontextprotocol/conformance come from npm.";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail(missing);
        }

        Assert.Skip(missing);
    }

    [GeneratedRegex(@"Total: (?<passed>\d+) passed, (?<failed>\d+) failed")]
    private static partial Regex TotalLine();
}
