using McpAspire.Cluster;
using McpAspire.ServiceDefaults.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace McpAspire.UnitTests.Cluster;

public sealed class ClusterStoreTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Without_a_connection_string_nothing_is_registered(string? connectionString)
    {
        var builder = Builder(connectionString);

        Assert.False(builder.AddClusterStore());
        Assert.DoesNotContain(builder.Services, service => service.ServiceType == typeof(IConnectionMultiplexer));
    }

    [Fact]
    public void A_connection_string_registers_the_multiplexer_and_a_degraded_readiness_check()
    {
        var builder = Builder("127.0.0.1:6379,password=s3cret");

        Assert.True(builder.AddClusterStore());

        using var services = builder.Services.BuildServiceProvider();
        var check = Assert.Single(services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations);
        Assert.Equal(ClusterStore.HealthCheckName, check.Name);
        Assert.Equal(HealthStatus.Degraded, check.FailureStatus);
        Assert.Contains("ready", check.Tags);
        Assert.Contains(builder.Services, service => service.ServiceType == typeof(IConnectionMultiplexer));
    }

    [Theory]
    [InlineData("127.0.0.1:6379,password=s3cret,nosuchoption=1", "nosuchoption")]
    [InlineData("127.0.0.1:6379,password=s3cret,ssl=maybe", "ssl")]
    [InlineData("127.0.0.1:6379,password=s3cret,connectTimeout=soon", "connectTimeout")]
    [InlineData(",password=s3cret", "names no server")]
    [InlineData("redis://", "redis:// URI")]
    [InlineData("rediss://:s3cret@localhost:6380", "redis:// URI")]
    public void A_malformed_connection_string_names_the_key_and_never_the_password(string connectionString, string fragment)
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => Builder(connectionString).AddClusterStore());

        Assert.StartsWith("ConnectionStrings:redis is ", error.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("s3cret", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_services_start_without_the_store_fail_fast_while_it_is_away_and_retry_every_second()
    {
        var options = ClusterStore.Configure(ConfigurationOptions.Parse("127.0.0.1:6379"));

        Assert.False(options.AbortOnConnectFail);
        Assert.Same(BacklogPolicy.FailFast, options.BacklogPolicy);
        Assert.True(options.ReconnectRetryPolicy!.ShouldRetry(20, 1000));
        Assert.False(options.ReconnectRetryPolicy.ShouldRetry(20, 999));
    }

    [Fact]
    public void A_store_failure_is_any_redis_error_or_a_cancellation_the_caller_did_not_ask_for()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.True(ClusterStore.IsStoreFailure(new RedisConnectionException(ConnectionFailureType.SocketFailure, "gone"), TestContext.Current.CancellationToken));
        Assert.True(ClusterStore.IsStoreFailure(new RedisTimeoutException("slow", CommandStatus.Sent), TestContext.Current.CancellationToken));
        Assert.True(ClusterStore.IsStoreFailure(new RedisServerException("ERR no"), TestContext.Current.CancellationToken));
        Assert.True(ClusterStore.IsStoreFailure(new TaskCanceledException(), CancellationToken.None));
        Assert.False(ClusterStore.IsStoreFailure(new TaskCanceledException(), cancelled.Token));
        Assert.False(ClusterStore.IsStoreFailure(new InvalidOperationException("a bug"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public void A_write_to_a_pipe_the_closing_connection_completed_is_a_store_failure()
    {
        // What StackExchange.Redis lets through when the server dies while a command is being written.
        var pipe = new System.IO.Pipelines.Pipe();
        pipe.Writer.Complete();
        var error = Record.Exception(() => pipe.Writer.GetSpan());

        Assert.IsType<InvalidOperationException>(error);
        Assert.True(ClusterStore.IsStoreFailure(error, TestContext.Current.CancellationToken));
    }

    private static HostApplicationBuilder Builder(string? connectionString)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection([new("ConnectionStrings:redis", connectionString)]);
        return builder;
    }
}
