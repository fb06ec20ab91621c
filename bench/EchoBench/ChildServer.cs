using System.Diagnostics;

/// <summary>
/// A server EchoBench runs as a process of its own (EchoBench started with <see cref="ServeOption"/>): the raw echo,
/// the node, or a YARP proxy (bare or with the service defaults). Each is then measured as the coordinator is, by its own CPU time and allocations.
/// </summary>
internal sealed class ChildServer(Process process, Uri url) : IAsyncDisposable
{
    /// <summary>The option that makes EchoBench serve instead of running a benchmark: <c>--serve raw|node|yarp|yarp-defaults [upstream]</c>.</summary>
    public const string ServeOption = "--serve";

    private const string ListeningPrefix = "listening on ";

    public Uri Url { get; } = url;

    public int ProcessId => process.Id;

    /// <summary>Starts EchoBench with <see cref="ServeOption"/> and <paramref name="arguments"/>, and waits until it listens.</summary>
    public static async Task<ChildServer> StartAsync(params string[] arguments)
    {
        var entry = Environment.ProcessPath!;
        var start = Path.GetFileNameWithoutExtension(entry) == "dotnet"
            ? new ProcessStartInfo(entry, [typeof(ChildServer).Assembly.Location, ServeOption, .. arguments])
            : new ProcessStartInfo(entry, [ServeOption, .. arguments]);
        start.RedirectStandardOutput = true;
        var process = Process.Start(start)!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
            {
                if (line.StartsWith(ListeningPrefix, StringComparison.Ordinal))
                {
                    return new ChildServer(process, new Uri(line[ListeningPrefix.Length..]));
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // Still not listening: stopped below.
        }

        await StopAsync(process);
        throw new InvalidOperationException($"EchoBench {ServeOption} {string.Join(' ', arguments)} did not start listening within 60 s.");
    }

    /// <summary>Starts <paramref name="app"/>, tells the parent the URL of <paramref name="path"/>, and serves until killed.</summary>
    public static async Task ServeAsync(WebApplication app, string path)
    {
        await app.StartAsync();
        Console.WriteLine(ListeningPrefix + new Uri(new Uri(app.Urls.Single()), path));
        await app.WaitForShutdownAsync();
    }

    public ValueTask DisposeAsync() => new(StopAsync(process));

    private static async Task StopAsync(Process process)
    {
        process.Kill();
        await process.WaitForExitAsync();
        process.Dispose();
    }
}
