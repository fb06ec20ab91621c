using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using McpAspire.Cluster.Security;
using McpAspire.McpCoordinator;
using McpAspire.McpCoordinator.Federation;
using McpAspire.McpCoordinator.Registry;
using McpAspire.McpCoordinator.Routing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace McpAspire.RegistryBench;

/// <summary>What a replica's registry shows the benchmark.</summary>
internal interface IRegistryView
{
    /// <summary>How many nodes the registry follows.</summary>
    int NodeCount { get; }

    /// <summary>Bytes of records read from the store so far.</summary>
    long BytesRead { get; }

    /// <summary>Whether a call to <paramref name="tool"/> would be routed: a ready, live node offers it.</summary>
    bool Routes(string tool);
}

/// <summary>
/// One coordinator replica, a process of its own so that its CPU time is its registry's alone. It follows the store
/// with the design it was given and answers the simulation on stdin and stdout: <c>mark</c> starts a measurement,
/// <c>report</c> ends it, <c>watch {tool}</c> reports when a call to the tool would first be routed.
/// </summary>
internal static class Replica
{
    public static async Task<int> RunAsync(string design, BenchSettings settings)
    {
        var options = ConfigurationOptions.Parse(settings.Store);
        options.AbortOnConnectFail = true;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
        using var stopping = new CancellationTokenSource();
        await using var view = design == Designs.Current
            ? await CurrentRegistry.StartAsync(redis, Convert.FromBase64String(settings.Key), stopping.Token)
            : (IAsyncDisposable)await LegacyRegistry.StartAsync(redis, stopping.Token);
        var registry = (IRegistryView)view;
        while (registry.NodeCount < settings.Nodes)
        {
            await Task.Delay(50);
        }

        Console.WriteLine("ready");
        var process = Process.GetCurrentProcess();
        var (cpu, bytes, clock) = (process.TotalProcessorTime, registry.BytesRead, Stopwatch.StartNew());
        while (Console.ReadLine() is { } command)
        {
            var parts = command.Split(' ');
            switch (parts[0])
            {
                case "mark":
                    process.Refresh();
                    (cpu, bytes, clock) = (process.TotalProcessorTime, registry.BytesRead, Stopwatch.StartNew());
                    break;
                case "report":
                    process.Refresh();
                    var seconds = clock.Elapsed.TotalSeconds;
                    var cpuMs = (process.TotalProcessorTime - cpu).TotalMilliseconds;
                    Console.WriteLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"report {cpuMs / seconds:0.00} {(registry.BytesRead - bytes) / seconds:0} {GC.GetTotalMemory(false) / 1048576.0:0.0} {process.WorkingSet64 / 1048576.0:0.0} {registry.NodeCount}"));
                    break;
                case "watch":
                    while (!registry.Routes(parts[1]))
                    {
                        await Task.Delay(1);
                    }

                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seen {parts[1]} {Stopwatch.GetTimestamp()}"));
                    break;
            }
        }

        await stopping.CancelAsync();
        return 0;
    }

    /// <summary>The coordinator's own <see cref="NodeRegistry"/>, with its default options and the cluster key.</summary>
    private sealed class CurrentRegistry : IRegistryView, IAsyncDisposable
    {
        private readonly NodeRegistry _registry;
        private readonly MeterListener _listener = new();
        private long _bytesRead;

        private CurrentRegistry(IConnectionMultiplexer redis, byte[] key)
        {
            var time = TimeProvider.System;
            var records = new RegistryRecords(new ClusterKeyRing([key]), new NodeUrlPolicy(Options.Create(new NodeUrlOptions())), Options.Create(new RegistryOptions()), Options.Create(new ExternalServersOptions()));
            _registry = new NodeRegistry(
                redis, new RegistryChanges(), records, Options.Create(new CoordinatorOptions()), Options.Create(new RegistryOptions()), time, NullLogger<NodeRegistry>.Instance);
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == RegistryMetrics.MeterName && instrument.Name == "mcpaspire.registry.read.size")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, bytes, _, _) => Interlocked.Add(ref _bytesRead, bytes));
            _listener.Start();
        }

        public static async Task<CurrentRegistry> StartAsync(IConnectionMultiplexer redis, byte[] key, CancellationToken cancellationToken)
        {
            var current = new CurrentRegistry(redis, key);
            await current._registry.StartAsync(cancellationToken);
            return current;
        }

        public int NodeCount => _registry.Current.Nodes.Count;

        public long BytesRead => Interlocked.Read(ref _bytesRead);

        public bool Routes(string tool)
        {
            var now = DateTimeOffset.UtcNow;
            return _registry.Current.NodesOffering(tool).Any(node => node.IsReady && node.IsLiveAt(now));
        }

        public async ValueTask DisposeAsync()
        {
            await _registry.StopAsync(CancellationToken.None);
            _registry.Dispose();
            _listener.Dispose();
        }
    }
}
