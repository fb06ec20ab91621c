using System.Net;
using McpAspire.ServiceDefaults.Http;
using Polly;

namespace McpAspire.UnitTests.Http;

public sealed class HttpStandardResilienceOptionsTests
{
    [Fact]
    public void Defaults_match_the_standard_handler()
    {
        var options = new HttpStandardResilienceOptions();

        Assert.Equal(1000, options.RateLimiter.PermitLimit);
        Assert.Equal(0, options.RateLimiter.QueueLimit);
        Assert.Equal(TimeSpan.FromSeconds(30), options.TotalRequestTimeout.Timeout);
        Assert.Equal(3, options.Retry.MaxRetryAttempts);
        Assert.Equal(DelayBackoffType.Exponential, options.Retry.BackoffType);
        Assert.True(options.Retry.UseJitter);
        Assert.Equal(TimeSpan.FromSeconds(2), options.Retry.Delay);
        Assert.True(options.Retry.ShouldRetryAfterHeader);
        Assert.Equal(0.1, options.CircuitBreaker.FailureRatio);
        Assert.Equal(100, options.CircuitBreaker.MinimumThroughput);
        Assert.Equal(TimeSpan.FromSeconds(30), options.CircuitBreaker.SamplingDuration);
        Assert.Equal(TimeSpan.FromSeconds(5), options.CircuitBreaker.BreakDuration);
        Assert.Equal(TimeSpan.FromSeconds(10), options.AttemptTimeout.Timeout);
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError, true)]
    [InlineData(HttpStatusCode.GatewayTimeout, true)]
    [InlineData(HttpStatusCode.RequestTimeout, true)]
    [InlineData(HttpStatusCode.TooManyRequests, true)]
    [InlineData(HttpStatusCode.OK, false)]
    [InlineData(HttpStatusCode.BadRequest, false)]
    [InlineData(HttpStatusCode.Unauthorized, false)]
    public void Transient_statuses(HttpStatusCode status, bool transient) =>
        Assert.Equal(transient, HttpTransientFailures.IsTransient(status));

    [Fact]
    public void Caller_cancellation_is_not_transient() =>
        Assert.False(HttpTransientFailures.IsTransient(Outcome.FromException<HttpResponseMessage>(new OperationCanceledException())));

    [Fact]
    public void Retry_After_as_a_date_in_the_past_means_no_wait()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(DateTimeOffset.UtcNow.AddMinutes(-1));

        Assert.Equal(TimeSpan.Zero, HttpTransientFailures.RetryAfter(response));
    }

    [Fact]
    public void Without_Retry_After_the_backoff_decides()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);

        Assert.Null(HttpTransientFailures.RetryAfter(response));
    }

    [Fact]
    public void Turning_Retry_After_off_removes_the_delay_generator()
    {
        var options = new HttpStandardResilienceOptions();
        options.Retry.ShouldRetryAfterHeader = false;

        Assert.Null(options.Retry.DelayGenerator);
    }
}
