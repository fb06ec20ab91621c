using System.Diagnostics;
using System.Runtime.InteropServices;

namespace McpAspire.AppHost.Hosting;

/// <summary>
/// One resource running as a child process: its output goes line by line to the log sink (and a
/// short history kept for error messages), and stopping it sends SIGTERM, then kills it if it has
/// not exited within the timeout.
/// </summary>
public sealed partial class ResourceProcess : IAsyncDisposable
{
    private const int HistoryLines = 40;
    private const int SigTerm = 15;

    private readonly Process _process;
    private readonly IResourceLogSink _sink;
    private readonly Queue<string> _history = new();
    private readonly Lock _historyGate = new();
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopRequested;

    private ResourceProcess(string name, string kind, Process process, IResourceLogSink sink)
    {
        Name = name;
        Kind = kind;
        _process = process;
        _sink = sink;
    }

    /// <summary>The resource's name (<c>store</c>, <c>coordinator</c>, <c>node-1</c>, ...).</summary>
    public string Name { get; }

    /// <summary>What it runs (<c>garnet</c>, <c>redis-server</c>, <c>project</c>).</summary>
    public string Kind { get; }

    /// <summary>The child's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>The URL clients use, once known.</summary>
    public string? Url { get; set; }

    /// <summary>The resource's state.</summary>
    public ResourceState State { get; internal set; } = ResourceState.Starting;

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

    /// <summary>Starts <paramref name="fileName"/> with the arguments and environment given.</summary>
    public static ResourceProcess Start(
        string name,
        string kind,
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string> environment,
        string workingDirectory,
        IResourceLogSink sink)
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

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var resource = new ResourceProcess(name, kind, process, sink);
        process.OutputDataReceived += (_, e) => resource.OnLine(e.Data, isError: false);
        process.ErrorDataReceived += (_, e) => resource.OnLine(e.Data, isError: true);
        process.Exited += (_, _) => resource.OnExited();
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {name} ({fileName}).");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return resource;
    }

    /// <summary>Sends SIGTERM (a graceful stop), waits up to <paramref name="timeout"/>, then kills the process tree.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        _stopRequested = true;
        if (_exited.Task.IsCompleted)
        {
            return;
        }

        State = ResourceState.Stopping;
        if (!RequestGracefulStop())
        {
            Kill();
        }

        if (await Task.WhenAny(_exited.Task, Task.Delay(timeout)) != _exited.Task)
        {
            _sink.WriteLine(Name, $"did not exit within {timeout.TotalSeconds:0} s of SIGTERM; killing it", isError: true);
            Kill();
            await _exited.Task.WaitAsync(TimeSpan.FromSeconds(5));
        }
    }

    private bool RequestGracefulStop()
    {
        if (OperatingSystem.IsWindows())
        {
            return false;
        }

        try
        {
            // Once the child is reaped its pid may be reused: only signal a process that is still ours.
            return _process.HasExited || SendSignal(_process.Id, SigTerm) == 0;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    private void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private void OnLine(string? line, bool isError)
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
        }

        _sink.WriteLine(Name, line, isError);
    }

    private void OnExited()
    {
        // Let the output readers drain before announcing the exit, so the last lines come first.
        _process.WaitForExit();
        var code = _process.ExitCode;
        State = _stopRequested ? ResourceState.Stopped : ResourceState.Exited;
        _sink.WriteLine(Name, _stopRequested ? $"stopped (exit code {code})" : $"exited on its own (exit code {code})", isError: !_stopRequested);
        _exited.TrySetResult(code);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5));
        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
