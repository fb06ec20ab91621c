using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using McpAspire.AppHost.Hosting;

namespace McpAspire.EndToEndTests;

/// <summary>The AppHost as users run it: a real process, stopped with Ctrl+C (SIGINT).</summary>
public sealed partial class AppHostProcessTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Ctrl_C_stops_every_child_within_10_seconds_and_leaves_no_process()
    {
        using var appHost = Process.Start(new ProcessStartInfo("dotnet")
        {
            ArgumentList = { ServiceProjects.AppHostAssembly, "--nodes", "2", "--coordinator-port", "0" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = new List<string>();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        appHost.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.Add(e.Data);
            }

            TestContext.Current.TestOutputHelper?.WriteLine(e.Data);
            if (e.Data.StartsWith("MCP clients connect to", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        appHost.ErrorDataReceived += (_, e) => TestContext.Current.TestOutputHelper?.WriteLine(e.Data ?? string.Empty);
        appHost.BeginOutputReadLine();
        appHost.BeginErrorReadLine();

        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(120), Cancel);
            List<(string Name, string State, int Pid)> table;
            lock (output)
            {
                table = [.. output.Select(line => TableRow().Match(line)).Where(match => match.Success)
                    .Select(match => (match.Groups["name"].Value, match.Groups["state"].Value, int.Parse(match.Groups["pid"].Value, CultureInfo.InvariantCulture)))];
            }

            Assert.Equal(["store", "coordinator", "node-1", "node-2"], table.Select(row => row.Name));
            Assert.All(table, row => Assert.Equal("Healthy", row.State));
            Assert.All(table, row => Assert.True(ProcessProbe.IsRunning(row.Pid)));

            using (var interrupt = Process.Start("kill", ["-INT", appHost.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await interrupt.WaitForExitAsync(Cancel);
            }

            var clock = Stopwatch.StartNew();
            await appHost.WaitForExitAsync(Cancel).WaitAsync(TimeSpan.FromSeconds(10), Cancel);
            clock.Stop();

            Assert.Equal(0, appHost.ExitCode);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
            Assert.All(table, row => Assert.False(ProcessProbe.IsRunning(row.Pid), $"{row.Name} (pid {row.Pid}) outlived the AppHost"));
        }
        finally
        {
            if (!appHost.HasExited)
            {
                appHost.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task A_bad_argument_is_reported_with_the_usage_and_exit_code_2()
    {
        using var appHost = Process.Start(new ProcessStartInfo("dotnet")
        {
            ArgumentList = { ServiceProjects.AppHostAssembly, "--nodes", "zero" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;

        var errors = await appHost.StandardError.ReadToEndAsync(Cancel);
        await appHost.WaitForExitAsync(Cancel);

        Assert.Equal(2, appHost.ExitCode);
        Assert.Contains("--nodes must be a whole number from 1 to 32, not 'zero'", errors, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^(?<name>store|coordinator|node-\d+)\s+\S+\s+(?<state>\S+)\s+(?<pid>\d+)\s+")]
    private static partial Regex TableRow();
}
