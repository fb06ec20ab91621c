using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace McpAspire.ServiceDefaults.Http;

/// <summary>
/// One standard pipeline per <see cref="HttpClient"/> name, built once and shared by every handler the
/// factory creates for that name, so the circuit breaker and the concurrency limit see all of the
/// client's traffic even as handlers are recycled.
/// </summary>
internal sealed class HttpResiliencePipelines(
    IOptionsMonitor<HttpStandardResilienceOptions> options, ILoggerFactory loggers, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Lazy<StandardPipeline>> _pipelines = new(StringComparer.Ordinal);

    public StandardPipeline Get(string clientName) =>
        _pipelines.GetOrAdd(clientName, name => new Lazy<StandardPipeline>(() => Build(name))).Value;

    private StandardPipeline Build(string clientName)
    {
        var settings = options.Get(clientName);
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>
        {
            Name = string.IsNullOrEmpty(clientName) ? "http-client" : clientName,
            InstanceName = "standard",
            TimeProvider = time,
            TelemetryListener = new ResilienceEventLogger(loggers.CreateLogger("McpAspire.ServiceDefaults.Http.Resilience")),
        }
            .AddTimeout(settings.TotalRequestTimeout)
            .AddRetry(settings.Retry)
            .AddCircuitBreaker(settings.CircuitBreaker)
            .AddTimeout(settings.AttemptTimeout)
            .Build();
        var limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = settings.RateLimiter.PermitLimit,
            QueueLimit = settings.RateLimiter.QueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        return new StandardPipeline(limiter, settings.RateLimiter, pipeline);
    }
}

/// <summary>The concurrency limiter in front of the Polly strategies, and the strategies themselves.</summary>
internal sealed record StandardPipeline(ConcurrencyLimiter Limiter, HttpConcurrencyLimiterOptions Limits, ResiliencePipeline<HttpResponseMessage> Strategies);
