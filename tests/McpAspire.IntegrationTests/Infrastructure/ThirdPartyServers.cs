using System.Collections.Concurrent;
using System.ComponentModel;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using McpAspire.Tests.Shared;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Server;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>
/// The reference MCP server nobody here wrote, <c>@modelcontextprotocol/server-everything</c> from npm (pinned in
/// <c>tests/interop</c>), run on Node over Streamable HTTP on a loopback port. It can be killed and started again on
/// the same port.
/// </summary>
public sealed class EverythingServer : IAsyncDisposable
{
    private static readonly string Interop = Path.Combine(RepositoryRoot.Path, "tests", "interop");

    private ServerProcess? _process;

    private EverythingServer(int port) => Port = port;

    public int Port { get; }

    public Uri McpUrl => new($"http://127.0.0.1:{Port}/mcp");

    /// <summary>Starts the server on a free port and waits until it accepts connections.</summary>
    public static async Task<EverythingServer> StartAsync()
    {
        TypeScriptClient.Require(Interop, "@modelcontextprotocol/server-everything");
        var server = new EverythingServer(PortAllocator.GetFreePort());
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts the server (again) on its port.</summary>
    public async Task StartAgainAsync()
    {
        _process = ServerProcess.Start(
            "server-everything",
            "node",
            ["--require", "./loopback.cjs", "node_modules/@modelcontextprotocol/server-everything/dist/index.js", "streamableHttp"],
            Interop,
            new Dictionary<string, string> { ["PORT"] = Port.ToString(CultureInfo.InvariantCulture) });
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var socket = new TcpClient();
            try
            {
                await socket.ConnectAsync(IPAddress.Loopback, Port, TestContext.Current.CancellationToken);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.Exited.IsCompleted)
            {
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
            catch (SocketException)
            {
                Assert.Fail($"server-everything did not listen on port {Port}: {string.Join('\n', _process.RecentOutput)}");
            }
        }
    }

    /// <summary>Kills the server outright, as a crash would.</summary>
    public async Task KillAsync()
    {
        if (_process is { } process)
        {
            await process.SignalAsync("KILL");
            await process.Exited.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            await process.DisposeAsync();
            _process = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }
}

/// <summary>
/// A third-party MCP server in this process, on the SDK's stateful Streamable HTTP transport and a real loopback
/// socket: it keeps the headers of every request it gets, may require a bearer token, and can gain a tool while
/// running, which its sessions are told of with <c>notifications/tools/list_changed</c>.
/// </summary>
public sealed class UpstreamMcpServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly McpServerPrimitiveCollection<McpServerTool> _tools;

    private UpstreamMcpServer(WebApplication app, McpServerPrimitiveCollection<McpServerTool> tools)
    {
        _app = app;
        _tools = tools;
    }

    public Uri McpUrl => new(new Uri(_app.Urls.Single()), "/mcp");

    /// <summary>The headers of every request that reached the server, by name.</summary>
    public ConcurrentQueue<IHeaderDictionary> Requests { get; } = new();

    /// <summary>Starts it with <c>echo</c> (answering "upstream: {message}") and <c>shout</c>; without <paramref name="bearer"/> a request gets 401.</summary>
    public static async Task<UpstreamMcpServer> StartAsync(string bearer)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var tools = new McpServerPrimitiveCollection<McpServerTool>
        {
            McpServerTool.Create([Description("Echoes, the upstream's way.")] (string message) => $"upstream: {message}", new McpServerToolCreateOptions { Name = "echo" }),
            McpServerTool.Create([Description("Upper-cases a message.")] (string message) => message.ToUpperInvariant(), new McpServerToolCreateOptions { Name = "shout", ReadOnly = true }),
        };
        builder.Services.AddMcpServer(options => options.ToolCollection = tools).WithHttpTransport(options => options.Stateless = false);
        var app = builder.Build();
        var server = new UpstreamMcpServer(app, tools);
        app.Use(async (context, next) =>
        {
            server.Requests.Enqueue(new HeaderDictionary(context.Request.Headers.ToDictionary(header => header.Key, header => header.Value)));
            if (context.Request.Headers.Authorization != $"Bearer {bearer}")
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }

            await next(context);
        });
        app.MapMcp("/mcp");
        await app.StartAsync(TestContext.Current.CancellationToken);
        return server;
    }

    /// <summary>Adds a tool named <paramref name="name"/>; open sessions are told the list changed.</summary>
    public void AddTool(string name) =>
        _tools.Add(McpServerTool.Create([Description("A tool added while the server ran.")] () => $"{name} ran", new McpServerToolCreateOptions { Name = name }));

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
