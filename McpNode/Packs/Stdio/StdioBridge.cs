using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpAspire.McpNode.Packs.Stdio;

/// <summary>
/// Runs the configured stdio MCP server as a child process and serves its tools as the node's own. It starts the
/// child with the SDK's stdio client (the child's stderr goes to the node's log, line by line), lists its tools into
/// the node's tool collection, and lists them again when the child says they changed. When the child exits, its tools
/// leave the node (so the registry routes their calls to other replicas), and it is started again after
/// <see cref="StdioOptions.RestartDelay"/>, doubled after each failure in a row up to <see cref="StdioOptions.MaxRestartDelay"/>;
/// a child that ran a minute counts as a fresh start. The node's call limits are the bounded queue in front of it.
/// </summary>
public sealed partial class StdioBridge(
    IOptions<StdioOptions> options, IOptions<McpServerOptions> server, ILoggerFactory loggers, TimeProvider time, ILogger<StdioBridge> logger)
    : BackgroundService, IHealthCheck
{
    /// <summary>How long a child must have run for its next restart to wait only <see cref="StdioOptions.RestartDelay"/> again.</summary>
    public static readonly TimeSpan StableRun = TimeSpan.FromMinutes(1);

    private readonly string _name = $"stdio MCP server '{Shorten(string.Join(' ', [options.Value.Command, .. options.Value.Args]))}'";
    private McpClient? _client;
    private string _state = "starting";
    private int _restarts;

    /// <summary>The running child's session, or <see langword="null"/> while it is down.</summary>
    public McpClient? Session => Volatile.Read(ref _client);

    /// <summary>How many times the child was started again after it exited or failed to start.</summary>
    public int Restarts => Volatile.Read(ref _restarts);

    /// <inheritdoc/>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Session is not null
            ? HealthCheckResult.Healthy($"{_name} is running")
            : HealthCheckResult.Unhealthy($"{_name} is not running: {Volatile.Read(ref _state)}"));

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var delay = settings.RestartDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = time.GetUtcNow();
            var ended = await RunOnceAsync(settings, stoppingToken);
            if (stoppingToken.IsCancellationRequested)
            {
                break;
            }

            if (time.GetUtcNow() - started >= StableRun)
            {
                delay = settings.RestartDelay;
            }

            Volatile.Write(ref _state, $"{ended}; starting again in {delay.TotalSeconds:0.#} s");
            LogRestarting(_name, ended, delay.TotalSeconds);
            try
            {
                await Task.Delay(delay, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            Interlocked.Increment(ref _restarts);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, settings.MaxRestartDelay.Ticks));
        }
    }

    /// <summary>Starts the child, serves its tools until it exits (or the node stops), and says how it ended.</summary>
    private async Task<string> RunOnceAsync(StdioOptions settings, CancellationToken stoppingToken)
    {
        var environment = StdioClientTransportOptions.GetDefaultEnvironmentVariables();
        foreach (var (name, value) in settings.Env)
        {
            environment[name] = value;
        }

        var transport = new StdioClientTransport(
            new StdioClientTransportOptions
            {
                Command = settings.Command!,
                Arguments = settings.Args,
                Name = StdioPack.Name,
                WorkingDirectory = settings.WorkingDirectory,
                InheritEnvironmentVariables = false,
                EnvironmentVariables = environment,
                StandardErrorLines = line => LogChildError(line),
            },
            loggers);
        using var listsChanged = new SemaphoreSlim(0);
        McpClient client;
        try
        {
            using var startup = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            startup.CancelAfter(settings.StartTimeout);
            client = await McpClient.CreateAsync(
                transport,
                new McpClientOptions
                {
                    ClientInfo = new Implementation { Name = "McpAspire.McpNode", Version = typeof(StdioBridge).Assembly.GetName().Version?.ToString(3) ?? "0.0.0" },
                    InitializationTimeout = settings.StartTimeout,
                    Handlers = new McpClientHandlers
                    {
                        NotificationHandlers =
                        [
                            new(NotificationMethods.ToolListChangedNotification, (_, _) =>
                            {
                                listsChanged.Release();
                                return ValueTask.CompletedTask;
                            }),
                        ],
                    },
                },
                loggers,
                startup.Token);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            return $"it did not start: {ex.GetBaseException().Message}";
        }

        await using (client)
        {
            try
            {
                await ServeToolsAsync(client, stoppingToken);
                Volatile.Write(ref _client, client);
                Volatile.Write(ref _state, "running");
                LogStarted(_name, client.ServerInfo?.Name ?? "?", client.ServerInfo?.Version ?? "?", Tools.Count);
                while (true)
                {
                    var changed = listsChanged.WaitAsync(stoppingToken);
                    if (await Task.WhenAny(changed, client.Completion) != changed)
                    {
                        break;
                    }

                    await ServeToolsAsync(client, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return "the node is stopping";
            }
            catch (Exception ex)
            {
                return $"it failed: {ex.GetBaseException().Message}";
            }
            finally
            {
                Volatile.Write(ref _client, null);
                Withdraw();
            }

            var details = await client.Completion;
            return details is StdioClientCompletionDetails { ExitCode: { } code } ? $"it exited with code {code}" : $"it ended: {details.Exception?.Message ?? "the stream closed"}";
        }
    }

    private McpServerPrimitiveCollection<McpServerTool> Tools => server.Value.ToolCollection!;

    /// <summary>Replaces the bridged tools with the child's current list, as one change of the node's tools.</summary>
    private async Task ServeToolsAsync(McpClient client, CancellationToken cancellationToken)
    {
        var listed = await client.ListToolsAsync(cancellationToken: cancellationToken);
        using (Tools.DeferChangedEvents())
        {
            Withdraw();
            foreach (var tool in listed)
            {
                if (!Tools.TryAdd(new BridgedTool(tool.ProtocolTool, options.Value.Prefix, () => Session)))
                {
                    LogNameTaken(options.Value.Prefix + tool.ProtocolTool.Name);
                }
            }
        }
    }

    private void Withdraw()
    {
        foreach (var tool in Tools.OfType<BridgedTool>().ToArray())
        {
            Tools.Remove(tool);
        }
    }



    private static string Shorten(string commandLine) => commandLine.Length <= 160 ? commandLine : $"{commandLine[..157]}...";

    [LoggerMessage(EventId = 4300, Level = LogLevel.Information, Message = "Started {Server}: {ServerName} {ServerVersion}, serving {ToolCount} tool(s)")]
    private partial void LogStarted(string server, string serverName, string serverVersion, int toolCount);

    [LoggerMessage(EventId = 4301, Level = LogLevel.Warning, Message = "{Server} is down ({Reason}); its tools are withdrawn, and it starts again in {Seconds} s")]
    private partial void LogRestarting(string server, string reason, double seconds);

    [LoggerMessage(EventId = 4302, Level = LogLevel.Information, Message = "stderr: {Line}")]
    private partial void LogChildError(string line);

    [LoggerMessage(EventId = 4303, Level = LogLevel.Warning, Message = "The stdio MCP server's tool {Tool} has the name of a tool the node already serves; it is not bridged")]
    private partial void LogNameTaken(string tool);
}
