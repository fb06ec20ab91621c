using System.Diagnostics;
using System.Text.Json.Nodes;
using McpAspire.AppHost.Hosting;

namespace McpAspire.Tests.Shared;

/// <summary>
/// Runs the scripts of <c>tests/interop</c>, which drive the official TypeScript MCP SDK, on Node. Compiled into each
/// test project that uses them. Without Node or the packages a test is skipped, and under <c>CI=true</c> it fails.
/// </summary>
internal static class TypeScriptClient
{
    /// <summary>
    /// Runs a script with <paramref name="arguments"/> and extra <paramref name="environment"/> variables, requires
    /// exit code 0, and returns the JSON line it printed last (what it saw) with its whole output for failure messages.
    /// </summary>
    public static async Task<(JsonNode Seen, string Output)> RunAsync(string interopDirectory, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        Require(interopDirectory);
        var info = new ProcessStartInfo("node", arguments)
        {
            WorkingDirectory = interopDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var cancel = TestContext.Current.CancellationToken;
        using var script = Process.Start(info)!;
        var output = script.StandardOutput.ReadToEndAsync(cancel);
        var errors = script.StandardError.ReadToEndAsync(cancel);
        await script.WaitForExitAsync(cancel);

        Assert.True(script.ExitCode == 0, $"the TypeScript client failed ({script.ExitCode}): {await output}{await errors}");
        return (JsonNode.Parse((await output).Trim().Split('\n').Last())!, await output);
    }

    /// <summary>
    /// Skips the test (fails it under <c>CI=true</c>) unless Node is on PATH and <paramref name="package"/> is installed
    /// in <paramref name="interopDirectory"/>.
    /// </summary>
    public static void Require(string interopDirectory, string package = "@modelcontextprotocol/sdk")
    {
        var node = ExecutableSearch.Find("node") is not null;
        var packages = Directory.Exists(Path.Combine(interopDirectory, "node_modules", package));
        if (node && packages)
        {
            return;
        }

        var missing = $"Needs Node.js on PATH and 'npm ci' in {interopDirectory} (.ci/run does both).";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail(missing);
        }

        Assert.Skip(missing);
    }
}
