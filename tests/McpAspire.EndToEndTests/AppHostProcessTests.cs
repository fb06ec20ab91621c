using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace McpAspire.EndToEndTests;

/// <summary>
/// The AppHost as users run it: <c>dotnet run --project AppHost</c> in a terminal of its own (a new session and
/// process group), with the dashboard, stopped as Ctrl+C stops it (SIGINT to the whole group) or by SIGTERM.
/// </summary>
public sealed class AppHostProcessTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task A_stop_signal_ends_the_apphost_and_leaves_no_process_behind(string signal)
    {
        var coordinatorPort = AppHostRun.FreePort();
        await using var appHost = AppHostRun.Start("--nodes", "2", "--coordinator-port", coordinatorPort.ToString(CultureInfo.InvariantCulture));

        var mcpUrl = await appHost.WaitForLineAsync(AppHostRun.McpUrlLine(), TimeSpan.FromMinutes(3));
        var dashboard = await appHost.WaitForLineAsync(AppHostRun.DashboardLoginLine(), TimeSpan.FromSeconds(30));
        Assert.Equal($"http://127.0.0.1:{coordinatorPort}/mcp", mcpUrl);
        Assert.StartsWith($"http://127.0.0.1:{appHost.DashboardPort}/login?t=", dashboard, StringComparison.Ordinal);
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(mcpUrl.Replace("/mcp", "/health", StringComparison.Ordinal)), Cancel)).StatusCode);
        var family = appHost.Family();
        Assert.Contains(family, pid => ProcessProbe.ExecutableOf(pid).EndsWith("McpAspire.McpCoordinator", StringComparison.Ordinal));
        Assert.Equal(2, family.Count(pid => ProcessProbe.ExecutableOf(pid).EndsWith("McpAspire.McpNode", StringComparison.Ordinal)));

        await appHost.SignalGroupAsync(signal);

        var clock = Stopwatch.StartNew();
        await appHost.WaitForExitAsync(TimeSpan.FromSeconds(60));
        await ProcessProbe.WaitUntilGoneAsync(family, TimeSpan.FromSeconds(60));
        TestContext.Current.TestOutputHelper?.WriteLine($"every process was gone {clock.Elapsed.TotalSeconds:0.0} s after SIG{signal}");
    }

    [Fact]
    public async Task A_bad_switch_is_reported_with_the_usage_and_exit_code_2()
    {
        await using var appHost = AppHostRun.Start("--nodes", "zero");

        await appHost.WaitForExitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(2, appHost.ExitCode);
        Assert.Contains(appHost.Lines, line => line.Contains("--nodes must be a whole number from 1 to 32, not 'zero'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Store_redis_without_redis_server_on_PATH_says_how_to_get_it()
    {
        // A PATH with only the .NET SDK on it, as on a machine that has nothing else.
        var dotnet = new FileInfo(McpAspire.AppHost.Hosting.ExecutableSearch.Find("dotnet")!);
        await using var appHost = AppHostRun.Start(Repository.Root, ["--store", "redis"], path: Path.GetDirectoryName((dotnet.ResolveLinkTarget(returnFinalTarget: true) ?? dotnet).FullName), launchProfile: false);

        await appHost.WaitForExitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(2, appHost.ExitCode);
        Assert.Contains(appHost.Lines, line => line.Contains("--store redis needs redis-server on PATH", StringComparison.Ordinal));
    }

}
