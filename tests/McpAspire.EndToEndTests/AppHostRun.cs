using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace McpAspire.EndToEndTests;

/// <summary>
/// <c>dotnet run --project AppHost</c> under <c>setsid</c>, so it leads a process group of its own as it would in
/// a terminal. Without a launch profile the dashboard listens on free ports of its own, so the test never collides
/// with an AppHost a developer runs; with the <c>http</c> profile it runs exactly as the README's quick start.
/// </summary>
internal sealed partial class AppHostRun : IAsyncDisposable
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private readonly Process _process;
    private readonly List<string> _lines = [];

    private AppHostRun(Process process, int dashboardPort)
    {
        _process = process;
        DashboardPort = dashboardPort;
    }

    public int DashboardPort { get; }

    public int ExitCode => _process.ExitCode;

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>The repository's AppHost, without a launch profile, with <paramref name="arguments"/>.</summary>
    public static AppHostRun Start(params string[] arguments) => Start(Repository.Root, arguments, path: null, launchProfile: false);

    /// <summary>The AppHost of the solution in <paramref name="root"/>.</summary>
    /// <param name="root">The solution's folder.</param>
    /// <param name="arguments">The AppHost's switches.</param>
    /// <param name="path">A PATH of its own, or <see langword="null"/> for the test's.</param>
    /// <param name="launchProfile">Whether to run with the AppHost's default (<c>http</c>) launch profile.</param>
    /// <param name="environment">Variables for the AppHost, which the services it starts inherit.</param>
    public static AppHostRun Start(string root, string[] arguments, string? path, bool launchProfile, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("setsid")
        {
            ArgumentList = { "dotnet", "run", "--project", Path.Combine(root, "AppHost"), "--no-build" },
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (!launchProfile)
        {
            info.ArgumentList.Add("--no-launch-profile");
        }

        info.ArgumentList.Add("--");
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var dashboardPort = 15888;
        if (!launchProfile)
        {
            // What the http launch profile sets, on ports of this run's own.
            dashboardPort = FreePort();
            info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{dashboardPort}";
            info.Environment["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{FreePort()}";
            info.Environment["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = $"http://127.0.0.1:{FreePort()}";
            info.Environment["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true";
            info.Environment["DOTNET_ENVIRONMENT"] = "Development";
        }

        if (path is not null)
        {
            info.Environment["PATH"] = path;
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var run = new AppHostRun(Process.Start(info)!, dashboardPort);
        run._process.OutputDataReceived += (_, e) => run.OnLine(e.Data);
        run._process.ErrorDataReceived += (_, e) => run.OnLine(e.Data);
        run._process.BeginOutputReadLine();
        run._process.BeginErrorReadLine();
        return run;
    }

    /// <summary>Waits for a line matching <paramref name="pattern"/> and returns its <c>value</c> group.</summary>
    public async Task<string> WaitForLineAsync(Regex pattern, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (Lines.Select(line => pattern.Match(line)).FirstOrDefault(match => match.Success) is { } found)
            {
                return found.Groups["value"].Value;
            }

            if (_process.HasExited)
            {
                Assert.Fail($"the AppHost exited ({_process.ExitCode}) before printing /{pattern}/");
            }

            Assert.True(DateTime.UtcNow < deadline, $"the AppHost printed no /{pattern}/ within {timeout.TotalSeconds:0} s");
            await Task.Delay(200, Cancel);
        }
    }

    /// <summary>
    /// Every process of the run: <c>dotnet run</c>, the AppHost, and DCP with everything it started. DCP runs
    /// detached (its parent is init, and a terminal's Ctrl+C does not reach it); it is found by the AppHost it
    /// watches, <c>dcp ... --monitor {pid}</c>.
    /// </summary>
    public IReadOnlyList<int> Family()
    {
        var run = ProcessProbe.TreeOf(_process.Id);
        var dcp = run.SelectMany(pid => ProcessProbe.WithArguments("--monitor", pid.ToString(CultureInfo.InvariantCulture)));
        return [.. run, .. dcp.SelectMany(ProcessProbe.TreeOf)];
    }

    /// <summary>Signals the run's process group (<c>dotnet run</c> and the AppHost), as a terminal does on Ctrl+C.</summary>
    public async Task SignalGroupAsync(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", "--", $"-{_process.Id.ToString(CultureInfo.InvariantCulture)}"]);
        await kill.WaitForExitAsync(Cancel);
    }

    public async Task WaitForExitAsync(TimeSpan timeout) =>
        await _process.WaitForExitAsync(Cancel).WaitAsync(timeout, Cancel);

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Add(line);
        }

        TestContext.Current.TestOutputHelper?.WriteLine(line);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            var family = Family();
            _process.Kill(entireProcessTree: true);
            foreach (var pid in family.Where(ProcessProbe.IsRunning))
            {
                try
                {
                    using var orphan = Process.GetProcessById(pid);
                    orphan.Kill(entireProcessTree: true);
                }
                catch (ArgumentException)
                {
                    // Gone already.
                }
            }

            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    /// <summary>A port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The line that gives the coordinator's MCP URL once it is healthy.</summary>
    [GeneratedRegex(@"MCP clients connect to (?<value>\S+)")]
    public static partial Regex McpUrlLine();

    /// <summary>The line that gives the dashboard's login URL.</summary>
    [GeneratedRegex(@"Login to the dashboard at (?<value>\S+)")]
    public static partial Regex DashboardLoginLine();
}
