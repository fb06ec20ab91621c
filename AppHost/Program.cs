using System.Runtime.InteropServices;
using McpAspire.AppHost;
using McpAspire.AppHost.Hosting;

ClusterOptions options;
try
{
    options = ClusterOptions.Parse(args);
}
catch (ArgumentException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}

using var shutdown = new CancellationTokenSource();
void OnSignal(PosixSignalContext context)
{
    // Handle the signal here: the cluster is stopped in order below instead of the runtime exiting at once.
    context.Cancel = true;
    shutdown.Cancel();
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
using var sigquit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, OnSignal);

var sink = new ConsoleResourceLogSink();
McpCluster cluster;
try
{
    cluster = await McpCluster.StartAsync(options, sink, shutdown.Token);
}
catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
{
    return 0;
}
catch (Exception ex) when (ex is ClusterStartException or InvalidOperationException)
{
    await Console.Error.WriteLineAsync($"The cluster did not start: {ex.Message}");
    return 1;
}

await using (cluster)
{
    ResourceTable.Write(Console.Out, cluster);
    Console.WriteLine($"MCP clients connect to {cluster.CoordinatorMcpUrl}. Press Ctrl+C to stop.");

    var stopRequested = Task.Delay(Timeout.Infinite, shutdown.Token).ContinueWith(static _ => { }, TaskScheduler.Default);
    if (await Task.WhenAny(stopRequested, cluster.UnexpectedExit) != stopRequested)
    {
        // Report it and keep the rest running: the coordinator routes around a missing node.
        ResourceTable.Write(Console.Out, cluster);
        await stopRequested;
    }

    Console.WriteLine("Stopping the cluster...");
    await cluster.StopAsync();
    ResourceTable.Write(Console.Out, cluster);
}

return 0;
