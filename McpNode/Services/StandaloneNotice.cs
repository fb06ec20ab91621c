namespace McpAspire.McpNode.Services;

/// <summary>Says once, at start-up, that the node runs without a registry.</summary>
internal sealed partial class StandaloneNotice(ILogger<StandaloneNotice> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        LogStandalone();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "ConnectionStrings:redis is not set: running standalone, serving /mcp without registering with a coordinator")]
    private partial void LogStandalone();
}
