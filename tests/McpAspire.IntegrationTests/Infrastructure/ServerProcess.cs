using System.Diagnostics;
using System.Globalization;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>
/// A server the tests run as a child process (Garnet, <c>redis-server</c>): its last lines of output are kept
/// for failure messages, and stopping it sends SIGTERM, then kills it if it has not exited within the timeout.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private const int HistoryLines = 40;

    private readonly Process _process;
    private readonly Queue<string> _history = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> _awaited = [];
    private readonly Lock _historyGate = new();
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    /// <summary>What the server is, for messages.</summary>
    public string Name { get; }

    /// <summary>The child's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Completes with the exit code when the process exits, for whatever reason.</summary>
    public Task<int> Exited => _exited.Task;

    /// <summary>The last lines the process wrote, oldest first.</summary>
    public IReadOnlyList<string> RecentOutput
    {
        get
        {
            lock (_historyGate)
            {
                return [.. _history];
            }
        }
    }

    /// <summary>
    /// Completes once the process has written a line containing <paramref name="text"/> (now or before, within
    /// the kept history): proof that this process, not another on the same port, got where the line says.
    /// </summary>
    public Task PrintedAsync(string text)
    {
        lock (_historyGate)
        {
            if (_history.Any(line => line.Contains(text, StringComparison.Ordinal)))
            {
                return Task.CompletedTask;
            }

            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _awaited.Add((text, seen));
            return seen.Task;
        }
    }

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/> in <paramref name="workingDirectory"/>, with <paramref name="environment"/> added.</summary>
    public static ServerProcess Start(string name, string fileName, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (variable, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[variable] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var server = new ServerProcess(name, process);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        process.Exited += (_, _) => server.OnExited();
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {name} ({fileName}).");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Sends <paramref name="signal"/> (<c>STOP</c>, <c>CONT</c>, ...) to the process.</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Sends SIGTERM (a graceful stop), waits up to <paramref name="timeout"/>, then kills the process tree.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (_exited.Task.IsCompleted)
        {
            return;
        }

        using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync();
        }

        if (await Task.WhenAny(_exited.Task, Task.Delay(timeout)) != _exited.Task)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It exited after all.
            }

            await _exited.Task.WaitAsync(TimeSpan.FromSeconds(5));
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_historyGate)
        {
            if (_history.Count == HistoryLines)
            {
                _history.Dequeue();
            }

            _history.Enqueue(line);
            foreach (var (text, seen) in _awaited.Where(waiter => line.Contains(waiter.Text, StringComparison.Ordinal)))
            {
                seen.TrySetResult();
            }

            _awaited.RemoveAll(waiter => waiter.Seen.Task.IsCompleted);
        }
    }

    private void OnExited()
    {
        // Let the output readers drain first, so RecentOutput holds the last lines.
        _process.WaitForExit();
        _exited.TrySetResult(_process.ExitCode);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5));
        _process.Dispose();
    }
}
