using System.Net;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace McpAspire.ServiceDefaults.Http;

/// <summary>
/// The standard resilience pipeline of an <see cref="HttpClient"/>, outermost first: concurrency limiter,
/// total request timeout, retry, circuit breaker, attempt timeout. The defaults are those of Microsoft's
/// standard resilience handler, so settings written for it mean the same here.
/// </summary>
public sealed class HttpStandardResilienceOptions
{
    /// <summary>The configuration section every client's options bind from.</summary>
    public const string SectionName = "HttpResilience";

    /// <summary>Caps the requests in flight; extra requests are rejected at once (default 1000, no queue).</summary>
    public HttpConcurrencyLimiterOptions RateLimiter { get; set; } = new();

    /// <summary>Bounds the whole call, retries and their delays included (default 30 s).</summary>
    public HttpTimeoutStrategyOptions TotalRequestTimeout { get; set; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Retries transient failures (default 3 times, exponential from 2 s with jitter, honouring <c>Retry-After</c>).</summary>
    public HttpRetryStrategyOptions Retry { get; set; } = new();

    /// <summary>Stops calling a failing dependency for a while (default: opens at 10% failures over 30 s, at least 100 calls, for 5 s).</summary>
    public HttpCircuitBreakerStrategyOptions CircuitBreaker { get; set; } = new();

    /// <summary>Bounds each attempt (default 10 s).</summary>
    public HttpTimeoutStrategyOptions AttemptTimeout { get; set; } = new() { Timeout = TimeSpan.FromSeconds(10) };
}

/// <summary>The concurrency limiter at the front of the pipeline.</summary>
public sealed class HttpConcurrencyLimiterOptions
{
    /// <summary>How many requests may be in flight at once.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, int.MaxValue)]
    public int PermitLimit { get; set; } = 1000;

    /// <summary>How many requests may wait for a permit; the rest are rejected.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, int.MaxValue)]
    public int QueueLimit { get; set; }
}

/// <summary>A timeout strategy for HTTP calls.</summary>
public sealed class HttpTimeoutStrategyOptions : TimeoutStrategyOptions;

/// <summary>Retry of transient HTTP failures: exponential backoff with jitter, honouring <c>Retry-After</c> by default.</summary>
public sealed class HttpRetryStrategyOptions : RetryStrategyOptions<HttpResponseMessage>
{
    private bool _shouldRetryAfterHeader;

    /// <summary>Creates the options with the standard handler's defaults.</summary>
    public HttpRetryStrategyOptions()
    {
        ShouldHandle = args => ValueTask.FromResult(HttpTransientFailures.IsTransient(args.Outcome));
        BackoffType = DelayBackoffType.Exponential;
        UseJitter = true;
        ShouldRetryAfterHeader = true;
    }

    /// <summary>
    /// Whether a <c>Retry-After</c> header on a handled response sets the delay before the next attempt
    /// (instead of the backoff). Setting this replaces <see cref="RetryStrategyOptions{TResult}.DelayGenerator"/>.
    /// </summary>
    public bool ShouldRetryAfterHeader
    {
        get => _shouldRetryAfterHeader;
        set
        {
            _shouldRetryAfterHeader = value;
            DelayGenerator = value ? args => ValueTask.FromResult(HttpTransientFailures.RetryAfter(args.Outcome.Result)) : null;
        }
    }
}

/// <summary>The circuit breaker of HTTP calls, counting transient failures.</summary>
public sealed class HttpCircuitBreakerStrategyOptions : CircuitBreakerStrategyOptions<HttpResponseMessage>
{
    /// <summary>Creates the options with the standard handler's defaults.</summary>
    public HttpCircuitBreakerStrategyOptions() =>
        ShouldHandle = args => ValueTask.FromResult(HttpTransientFailures.IsTransient(args.Outcome));
}

/// <summary>What the standard pipeline treats as transient.</summary>
public static class HttpTransientFailures
{
    /// <summary>
    /// A 5xx, 408 or 429 response; an <see cref="HttpRequestException"/>; or an attempt that timed out.
    /// Cancellation by the caller is not transient.
    /// </summary>
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result: { } response } => IsTransient(response.StatusCode),
        _ => false,
    };

    /// <summary>A 5xx, 408 (request timeout) or 429 (too many requests).</summary>
    public static bool IsTransient(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    /// <summary>The delay a response's <c>Retry-After</c> asks for (seconds or a date), or <see langword="null"/> to use the backoff.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        var header = response?.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta >= TimeSpan.Zero ? delta : null;
        }

        if (header?.Date is { } date)
        {
            var wait = date - TimeProvider.System.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }
}
