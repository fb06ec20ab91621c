using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using McpAspire.AppHost.Hosting;

namespace McpAspire.EndToEndTests;

/// <summary>A Garnet server the AppHost did not start, as a user's existing store would be: password-protected, on a free port.</summary>
internal sealed class ExternalGarnet : IAsyncDisposable
{
    private readonly Process _process;

    private ExternalGarnet(Process process, int port, string password)
    {
        _process = process;
        Port = port;
        ConnectionString = $"127.0.0.1:{port},password={password}";
    }

    /// <summary>The port it listens on, on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>Its connection string, in StackExchange.Redis form.</summary>
    public string ConnectionString { get; }

    /// <summary>Starts Garnet requiring <paramref name="password"/> on <paramref name="port"/> (0: a free one), and waits until it accepts connections.</summary>
    public static async Task<ExternalGarnet> StartAsync(string password, int port = 0)
    {
        if (port == 0)
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var garnet = GarnetTool.Locate(Repository.Root);
        var process = Process.Start(new ProcessStartInfo("dotnet")
        {
            ArgumentList = { garnet, "--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--auth", "Password", "--password", password },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ExternalGarnet(process, port, password);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
                return server;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
