using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace McpAspire.Bench;

/// <summary>
/// The store a benchmark runs against: a <c>redis-server</c> of its own on a free port of 127.0.0.1, without
/// persistence, or a server already running on a given port. Shared by the benchmarks as a linked source file.
/// </summary>
internal sealed class BenchRedisServer : IAsyncDisposable
{
    private readonly Process? _own;

    private BenchRedisServer(int port, Process? own)
    {
        Port = port;
        _own = own;
    }

    /// <summary>The port the server listens on.</summary>
    public int Port { get; }

    /// <summary>Uses the server on <paramref name="port"/>, or starts one when it is 0.</summary>
    /// <exception cref="InvalidOperationException"><c>redis-server</c> is not on PATH and no port was given.</exception>
    public static BenchRedisServer Start(int port)
    {
        if (port != 0)
        {
            return new BenchRedisServer(port, null);
        }

        var redisServer = Which("redis-server") ?? throw new InvalidOperationException("redis-server is not on PATH (apt-get install redis-server), and no --port was given.");
        port = FreePort();
        var own = Process.Start(new ProcessStartInfo(redisServer, ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no"])
        {
            RedirectStandardOutput = true,
        })!;
        return new BenchRedisServer(port, own);
    }

    /// <summary>The full path of <paramref name="program"/> on PATH, if it is there.</summary>
    public static string? Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Select(directory => Path.Combine(directory, program))
            .FirstOrDefault(File.Exists);

    /// <summary>A port of 127.0.0.1 that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Stops the server if this benchmark started it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_own is not null)
        {
            _own.Kill();
            await _own.WaitForExitAsync();
            _own.Dispose();
        }
    }
}
