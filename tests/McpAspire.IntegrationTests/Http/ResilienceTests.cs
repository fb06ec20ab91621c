using System.Net;
using McpAspire.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Timeout;

namespace McpAspire.IntegrationTests.Http;

/// <summary>
/// Each strategy of the standard pipeline against a real server that misbehaves on purpose. Every test
/// observes something only its strategy causes, so removing the strategy fails it.
/// </summary>
public sealed class ResilienceTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.RequestTimeout)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    public async Task Retry_recovers_from_a_transient_status(HttpStatusCode status)
    {
        await using var server = await MisbehavingServer.StartAsync((n, context) =>
            MisbehavingServer.Status(context, n <= 2 ? status : HttpStatusCode.OK));
        await using var http = ResilientClient.Create(server.Address, ResilientClient.FastRetries);

        using var response = await http.Client.GetAsync("/work", Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, server.Requests);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.Conflict)]
    public async Task Retry_leaves_client_errors_alone(HttpStatusCode status)
    {
        await using var server = await MisbehavingServer.StartAsync((_, context) => MisbehavingServer.Status(context, status));
        await using var http = ResilientClient.Create(server.Address, ResilientClient.FastRetries);

        using var response = await http.Client.GetAsync("/work", Cancellation);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task Retry_recovers_from_a_connection_the_server_drops()
    {
        await using var server = await MisbehavingServer.StartAsync((n, context) =>
        {
            if (n == 1)
            {
                context.Abort();
                return Task.CompletedTask;
            }

            return MisbehavingServer.Status(context, HttpStatusCode.OK);
        });
        await using var http = ResilientClient.Create(server.Address, ResilientClient.FastRetries);

        using var response = await http.Client.GetAsync("/work", Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task Retry_gives_up_after_three_retries_and_returns_the_last_answer()
    {
        await using var server = await MisbehavingServer.StartAsync((_, context) => MisbehavingServer.Status(context, HttpStatusCode.BadGateway));
        await using var http = ResilientClient.Create(server.Address, ResilientClient.FastRetries);

        using var response = await http.Client.GetAsync("/work", Cancellation);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(4, server.Requests);
    }

    [Fact]
    public async Task Retry_waits_as_long_as_Retry_After_asks()
    {
        await using var server = await MisbehavingServer.StartAsync((n, context) =>
        {
            if (n == 1)
            {
                context.Response.Headers.RetryAfter = "1";
                return MisbehavingServer.Status(context, HttpStatusCode.TooManyRequests);
            }

            return MisbehavingServer.Status(context, HttpStatusCode.OK);
        });
        await using var http = ResilientClient.Create(server.Address, ResilientClient.FastRetries);

        using var response = await http.Client.GetAsync("/work", Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var gap = server.Arrivals[1] - server.Arrivals[0];
        // The backoff alone would wait 1 ms; only the header explains a wait of about a second.
        Assert.True(gap >= TimeSpan.FromMilliseconds(900), $"The retry came after {gap.TotalMilliseconds:0} ms, not after Retry-After's 1 s.");
    }

    [Fact]
    public async Task Attempt_timeout_abandons_a_hung_attempt_and_retries()
    {
        await using var server = await MisbehavingServer.StartAsync((n, context) =>
            n == 1 ? MisbehavingServer.Hang(context) : MisbehavingServer.Status(context, HttpStatusCode.OK));
        await using var http = ResilientClient.Create(server.Address, options =>
        {
            ResilientClient.FastRetries(options);
            options.AttemptTimeout.Timeout = TimeSpan.FromMilliseconds(300);
            options.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(10);
        });

        using var response = await http.Client.GetAsync("/work", Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task Total_timeout_ends_the_call_across_retries()
    {
        await using var server = await MisbehavingServer.StartAsync((_, context) => MisbehavingServer.Hang(context));
        await using var http = ResilientClient.Create(server.Address, options =>
        {
            ResilientClient.FastRetries(options);
            options.Retry.MaxRetryAttempts = 5;
            options.AttemptTimeout.Timeout = TimeSpan.FromMilliseconds(300);
            options.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(1);
        });

        // Six attempts of 300 ms cannot fit in 1 s, so the total timeout is what ends the call.
        var error = await Assert.ThrowsAsync<TimeoutRejectedException>(() => http.Client.GetAsync("/work", Cancellation));

        Assert.Equal(TimeSpan.FromSeconds(1), error.Timeout);
        Assert.InRange(server.Requests, 1, 4);
    }

    [Fact]
    public async Task Circuit_breaker_stops_calling_a_failing_server()
    {
        await using var server = await MisbehavingServer.StartAsync((_, context) => MisbehavingServer.Status(context, HttpStatusCode.InternalServerError));
        await using var http = ResilientClient.Create(server.Address, options =>
        {
            ResilientClient.FastRetries(options);
            options.Retry.MaxRetryAttempts = 1;
            options.CircuitBreaker.MinimumThroughput = 2;
            options.CircuitBreaker.FailureRatio = 0.5;
            options.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(30);
        });

        using (var first = await http.Client.GetAsync("/work", Cancellation))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, first.StatusCode);
        }

        await Assert.ThrowsAsync<BrokenCircuitException>(() => http.Client.GetAsync("/work", Cancellation));
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task Concurrency_limiter_rejects_requests_over_the_limit_without_sending_them()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await MisbehavingServer.StartAsync(async (_, context) =>
        {
            await release.Task;
            await MisbehavingServer.Status(context, HttpStatusCode.OK);
        });
        await using var http = ResilientClient.Create(server.Address, options => options.RateLimiter.DefaultRateLimiterOptions.PermitLimit = 1);

        var first = http.Client.GetAsync("/work", Cancellation);
        await Eventually.UntilAsync(() => Task.FromResult(server.Requests == 1));

        var error = await Assert.ThrowsAsync<RateLimiterRejectedException>(() => http.Client.GetAsync("/work", Cancellation));
        Assert.Contains("rate limiter", error.Message, StringComparison.Ordinal);
        release.SetResult();
        using var response = await first;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task Options_bind_from_the_HttpResilience_section()
    {
        await using var server = await MisbehavingServer.StartAsync((_, context) => MisbehavingServer.Status(context, HttpStatusCode.ServiceUnavailable));
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HttpResilience:Retry:MaxRetryAttempts"] = "1",
            ["HttpResilience:Retry:Delay"] = "00:00:00.001",
        });
        builder.AddServiceDefaults();
        using var host = builder.Build();

        using var response = await host.Services.GetRequiredService<IHttpClientFactory>().CreateClient().GetAsync(new Uri(server.Address, "/work"), Cancellation);

        Assert.Equal(2, server.Requests);
    }

    [Theory]
    [InlineData("HttpResilience:AttemptTimeout:Timeout", "00:00:40")]
    [InlineData("HttpResilience:CircuitBreaker:SamplingDuration", "00:00:15")]
    [InlineData("HttpResilience:Retry:MaxRetryAttempts", "0")]
    [InlineData("HttpResilience:CircuitBreaker:FailureRatio", "1.5")]
    [InlineData("HttpResilience:RateLimiter:DefaultRateLimiterOptions:PermitLimit", "0")]
    [InlineData("HttpResilience:TotalRequestTimeout:Timeout", "00:00:00.001")]
    public async Task An_invalid_setting_stops_the_host_and_names_its_key(string key, string value)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [key] = value });
        builder.AddServiceDefaults();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Cancellation));

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Service_defaults_give_every_client_the_pipeline_unless_it_opts_out()
    {
        await using var server = await MisbehavingServer.StartAsync((_, context) => MisbehavingServer.Status(context, HttpStatusCode.ServiceUnavailable));
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["HttpResilience:Retry:Delay"] = "00:00:00.001" });
        builder.AddServiceDefaults();
#pragma warning disable EXTEXP0001 // The package's own way to opt a client out, still marked experimental.
        builder.Services.AddHttpClient("forwarder").RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        using var host = builder.Build();
        var factory = host.Services.GetRequiredService<IHttpClientFactory>();

        using (var resilient = await factory.CreateClient("any").GetAsync(new Uri(server.Address, "/work"), Cancellation))
        {
            Assert.Equal(4, server.Requests);
        }

        using var plain = await factory.CreateClient("forwarder").GetAsync(new Uri(server.Address, "/work"), Cancellation);
        Assert.Equal(5, server.Requests);
    }
}
