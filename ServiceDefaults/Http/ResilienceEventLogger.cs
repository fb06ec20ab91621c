using Microsoft.Extensions.Logging;
using Polly.Retry;
using Polly.Telemetry;

namespace McpAspire.ServiceDefaults.Http;

/// <summary>Logs the pipeline's retries, timeouts and circuit transitions, so a struggling dependency shows up in the logs.</summary>
internal sealed partial class ResilienceEventLogger(ILogger logger) : TelemetryListener
{
    public override void Write<TResult, TArgs>(in TelemetryEventArguments<TResult, TArgs> args)
    {
        if (args.Event.Severity == ResilienceEventSeverity.None || !logger.IsEnabled(LogLevel.Warning))
        {
            return;
        }

        var outcome = args.Outcome switch
        {
            { Exception: { } error } => error.GetType().Name + ": " + error.Message,
            { Result: HttpResponseMessage response } => $"HTTP {(int)response.StatusCode}",
            _ => "none",
        };
        if (args.Arguments is OnRetryArguments<HttpResponseMessage> retry)
        {
            LogRetry(args.Source.PipelineName ?? "http-client", retry.AttemptNumber + 1, outcome, retry.RetryDelay.TotalMilliseconds);
        }
        else
        {
            LogEvent(args.Source.PipelineName ?? "http-client", args.Event.EventName, outcome);
        }
    }

    [LoggerMessage(EventId = 1200, Level = LogLevel.Warning, Message = "HttpClient {Client}: attempt {Attempt} failed ({Outcome}); retrying in {DelayMs:0} ms")]
    private partial void LogRetry(string client, int attempt, string outcome, double delayMs);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "HttpClient {Client}: {Event} ({Outcome})")]
    private partial void LogEvent(string client, string @event, string outcome);
}
