using System.Diagnostics;
using McpAspire.McpCoordinator.Telemetry;
using McpAspire.ServiceDefaults.Hosting;
using McpAspire.ServiceDefaults.Telemetry;
using Microsoft.Extensions.Logging.Console;

namespace McpAspire.McpCoordinator.Security;

/// <summary>
/// The audit trail of tool calls: one structured log record per <c>tools/call</c> the coordinator takes (category
/// <see cref="Category"/>, event 3300), with the caller, their client, the tool, the node, the outcome, the duration
/// and the trace id, and never the arguments. It goes to the OpenTelemetry logs (the Aspire dashboard, any OTLP
/// backend) and, when nothing exports them or <see cref="ConsoleKey"/> says so, to the console.
/// </summary>
public sealed partial class CallAudit(ILoggerFactory loggers)
{
    /// <summary>The log category of the records, to route or keep them apart.</summary>
    public const string Category = "McpAspire.Audit.Calls";

    /// <summary>
    /// Whether the records also go to the console: by default only while no OTLP endpoint is configured, since a
    /// line per call on the console costs the coordinator, and whoever reads its output, more than the record itself.
    /// </summary>
    public const string ConsoleKey = "Coordinator:Audit:Console";

    /// <summary>The outcome of a call whose answer came from a node and was passed on whole.</summary>
    public const string Completed = "completed";

    private readonly ILogger _logger = loggers.CreateLogger(Category);

    /// <summary>Registers the audit, and keeps its records off the console as <see cref="ConsoleKey"/> decides.</summary>
    /// <exception cref="InvalidConfigurationException"><see cref="ConsoleKey"/> is not true or false.</exception>
    public static void Add(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<CallAudit>();
        if (!(ConfigurationSwitch.Read(builder.Configuration, ConsoleKey) ?? !OtlpConfiguration.IsExportOn(builder.Configuration)))
        {
            builder.Logging.AddFilter<ConsoleLoggerProvider>(Category, LogLevel.None);
        }
    }

    /// <summary>Starts the record of one call; disposing it writes the record.</summary>
    public AuditedCall Start(HttpContext context, string tool, McpOperation operation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(tool);
        ArgumentNullException.ThrowIfNull(operation);
        return new AuditedCall(this, Caller.Of(context), tool, operation);
    }

    internal void Write(AuditedCall call, string outcome, double milliseconds)
    {
        if (!_logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        var identity = call.Caller.Identity;
        var duration = Math.Round(milliseconds, 1);
        var traceId = Activity.Current?.TraceId.ToHexString();
        LogCall(call.Tool, call.Caller.DisplayName, identity?.Subject, identity?.Client, call.NodeId ?? "none", outcome, duration, traceId);
    }

    [LoggerMessage(EventId = 3300, Level = LogLevel.Information, Message = "Tool call {Tool} by {Caller} ({Subject}, client {Client}) on {NodeId}: {Outcome} in {DurationMs} ms, trace {TraceId}")]
    private partial void LogCall(string tool, string caller, string? subject, string? client, string nodeId, string outcome, double durationMs, string? traceId);
}

/// <summary>One tool call being audited: the node it went to is set as it goes; disposing writes the record once.</summary>
public sealed class AuditedCall : IDisposable
{
    private readonly CallAudit _audit;
    private readonly McpOperation _operation;
    private readonly long _started = Stopwatch.GetTimestamp();
    private bool _written;

    internal AuditedCall(CallAudit audit, Caller caller, string tool, McpOperation operation)
    {
        _audit = audit;
        Caller = caller;
        Tool = tool;
        _operation = operation;
    }

    /// <summary>Who called.</summary>
    public Caller Caller { get; }

    /// <summary>The tool called.</summary>
    public string Tool { get; }

    /// <summary>The last node the call was sent to; <see langword="null"/> while none.</summary>
    public string? NodeId { get; set; }

    /// <summary>An outcome decided before any node was asked (<c>forbidden</c>, <c>rate_limited</c>); otherwise the operation's.</summary>
    public string? Outcome { get; set; }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_written)
        {
            return;
        }

        _written = true;
        _audit.Write(this, Outcome ?? _operation.ErrorType ?? CallAudit.Completed, Stopwatch.GetElapsedTime(_started).TotalMilliseconds);
    }
}
