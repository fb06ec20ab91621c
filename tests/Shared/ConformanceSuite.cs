using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace McpAspire.Tests.Shared;

/// <summary>
/// The official MCP conformance suite (<c>@modelcontextprotocol/conformance</c> 0.1.16, on Node 22 from npm, both
/// pinned in <c>tests/interop</c>), run against one URL. Compiled into each test project that runs it. Without the
/// packages a test is skipped, and under <c>CI=true</c> it fails.
/// </summary>
internal static partial class ConformanceSuite
{
    /// <summary>Runs every active scenario against <paramref name="mcpUrl"/> and requires every check to pass, and at least 40 to run.</summary>
    public static async Task RequirePassAsync(string interopDirectory, Uri mcpUrl)
    {
        var node22 = Path.Combine(interopDirectory, "node_modules", "node", "bin", "node");
        var suite = Path.Combine(interopDirectory, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js");
        Require(interopDirectory, node22, suite);
        var cancel = TestContext.Current.CancellationToken;
        var info = new ProcessStartInfo(node22, [suite, "server", "--url", mcpUrl.ToString()])
        {
            WorkingDirectory = interopDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var run = Process.Start(info)!;
        var standardOutput = run.StandardOutput.ReadToEndAsync(cancel);
        var errors = run.StandardError.ReadToEndAsync(cancel);
        await run.WaitForExitAsync(cancel).WaitAsync(TimeSpan.FromMinutes(3), cancel);
        var output = await standardOutput + await errors;

        var total = TotalLine().Match(output);
        Assert.True(total.Success, $"The suite printed no total:\n{output}");
        var passed = int.Parse(total.Groups["passed"].Value, CultureInfo.InvariantCulture);
        var failed = int.Parse(total.Groups["failed"].Value, CultureInfo.InvariantCulture);
        Assert.True(run.ExitCode == 0 && failed == 0, $"The suite failed ({run.ExitCode}):\n{output}");

        // 0.1.16's active suite has 30 scenarios and 40 checks; fewer means scenarios did not run.
        Assert.True(passed >= 40, $"Only {passed} checks ran:\n{output}");
    }

    private static void Require(string interopDirectory, string node22, string suite)
    {
        if (File.Exists(node22) && File.Exists(suite))
        {
            return;
        }

        var missing = $"Needs 'npm ci' in {interopDirectory} (.ci/run does it): Node 22 and @modelcontextprotocol/conformance come from npm.";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail(missing);
        }

        Assert.Skip(missing);
    }

    [GeneratedRegex(@"Total: (?<passed>\d+) passed, (?<failed>\d+) failed")]
    private static partial Regex TotalLine();
}
