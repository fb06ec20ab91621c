using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;

namespace McpAspire.Bench;

/// <summary>
/// A process whose cost is counted per call: its CPU time, read from the OS, and for a .NET service the bytes it
/// allocated, read from its runtime counter <c>dotnet.gc.heap.total_allocated</c> (the <c>System.Runtime</c> meter)
/// over EventPipe, the way <c>dotnet-counters</c> reads it. The counter is cumulative, so the bytes of a round are the
/// difference of the first values published after its start and after its end. The session ends with either process.
/// Shared by the benchmarks as a linked source file.
/// </summary>
internal sealed class ProcessProbe
{
    private const string Instrument = "dotnet.gc.heap.total_allocated";

    private readonly int _processId;
    private readonly EventPipeSession? _session;
    private readonly Lock _gate = new();
    private readonly List<(long After, TaskCompletionSource<double> Value)> _waiting = [];
    private long _published;

    private ProcessProbe(string name, int processId, EventPipeSession? session)
    {
        Name = name;
        _processId = processId;
        _session = session;
    }

    public string Name { get; }

    /// <summary>Whether this probe counts allocations (only for a .NET process other than this one).</summary>
    public bool CountsAllocations => _session is not null;

    /// <summary>A probe of CPU time only.</summary>
    public static ProcessProbe CpuOf(string name, int processId) => new(name, processId, null);

    /// <summary>A probe of CPU time and allocations of the .NET process <paramref name="processId"/>.</summary>
    public static ProcessProbe Of(string name, int processId)
    {
        var sessionId = Guid.NewGuid().ToString("N");
        var provider = new EventPipeProvider("System.Diagnostics.Metrics", EventLevel.Informational, keywords: 0x2, new Dictionary<string, string>
        {
            ["SessionId"] = sessionId,
            ["Metrics"] = $"System.Runtime\\{Instrument}",
            ["RefreshInterval"] = "0.2",
            ["MaxTimeSeries"] = "10",
            ["MaxHistograms"] = "10",
        });
        var session = new DiagnosticsClient(processId).StartEventPipeSession([provider], requestRundown: false);
        var probe = new ProcessProbe(name, processId, session);
        var source = new EventPipeEventSource(session.EventStream);
        source.Dynamic.All += e =>
        {
            if (e.EventName == "CounterRateValuePublished" && (string)e.PayloadByName("sessionId") == sessionId && (string)e.PayloadByName("instrumentName") == Instrument
                && double.TryParse((string)e.PayloadByName("value"), NumberStyles.Float, CultureInfo.InvariantCulture, out var total))
            {
                probe.Publish(total);
            }
        };
        _ = Task.Run(source.Process);
        return probe;
    }

    /// <summary>The process's CPU time so far, user and kernel.</summary>
    public TimeSpan Cpu()
    {
        using var process = Process.GetProcessById(_processId);
        return process.TotalProcessorTime;
    }

    /// <summary>
    /// The bytes the process has allocated since it started, as first published after this call (every 0.2 s), so
    /// everything allocated before the call is in it.
    /// </summary>
    public Task<double> AllocatedAsync()
    {
        var value = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            // The value being published at this moment may have been read before the call: skip it too.
            _waiting.Add((_published + 1, value));
        }

        return value.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private void Publish(double total)
    {
        lock (_gate)
        {
            _published++;
            foreach (var (after, value) in _waiting.Where(waiter => _published > waiter.After))
            {
                value.TrySetResult(total);
            }

            _waiting.RemoveAll(waiter => waiter.Value.Task.IsCompleted);
        }
    }
}
