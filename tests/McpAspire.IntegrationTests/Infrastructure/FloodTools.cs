using System.ComponentModel;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>A tool that sends large progress notifications, each awaited, until its call is cancelled.</summary>
[McpServerToolType]
public sealed class FloodTools
{
    public const int NotificationBytes = 16 * 1024;

    [McpServerTool(Name = "flood", ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("Sends 16 KiB progress notifications until it is cancelled.")]
    public static async Task<string> FloodAsync(RequestContext<CallToolRequestParams> context, FloodMeter meter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(meter);
        var token = context.Params?.ProgressToken ?? throw new McpException("Call flood with a progress token.");
        var text = new string('f', NotificationBytes);
        try
        {
            for (var sent = 0; ; sent++)
            {
                await context.Server.NotifyProgressAsync(token, new ProgressNotificationValue { Progress = sent, Message = text }, cancellationToken: cancellationToken);
                meter.Sent(NotificationBytes);
            }
        }
        finally
        {
            meter.Ended.Release();
        }
    }
}

/// <summary>How much the <c>flood</c> tool has sent, and whether it has ended.</summary>
public sealed class FloodMeter : IDisposable
{
    private long _bytes;

    public long Bytes => Interlocked.Read(ref _bytes);

    public SemaphoreSlim Ended { get; } = new(0);

    public void Sent(int bytes) => Interlocked.Add(ref _bytes, bytes);

    public void Dispose() => Ended.Dispose();
}
