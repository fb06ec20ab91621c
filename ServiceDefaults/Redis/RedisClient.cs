using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace McpAspire.ServiceDefaults.Redis;

/// <summary>
/// A Redis client over one multiplexed connection that reconnects by itself. While it is
/// disconnected, commands fail at once with <see cref="RedisConnectionException"/> rather than
/// queueing; every command fails with <see cref="RedisTimeoutException"/> if its reply takes longer
/// than <see cref="RedisConnectionOptions.CommandTimeout"/>.
/// </summary>
public sealed class RedisClient : IAsyncDisposable
{
    private readonly TimeProvider _time;
    private readonly RedisConnectionSupervisor _supervisor;

    private RedisClient(RedisConnectionOptions options, ILogger logger, TimeProvider time)
    {
        Options = options;
        _time = time;
        _supervisor = new RedisConnectionSupervisor(options, logger, time, static (_, _) => Task.CompletedTask);
    }

    /// <summary>The options the client was created with.</summary>
    public RedisConnectionOptions Options { get; }

    /// <summary>Why the last attempt to connect failed, or <see langword="null"/> after a successful one.</summary>
    public string? LastConnectionError => _supervisor.LastError;

    /// <summary>Whether a connection is open now.</summary>
    public bool IsConnected => _supervisor.Current is not null;

    /// <summary>
    /// Creates the client and starts connecting in the background. Use
    /// <see cref="WaitForConnectionAsync"/> to wait for the first connection.
    /// </summary>
    public static RedisClient Create(RedisConnectionOptions options, ILogger<RedisClient> logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        return new RedisClient(options, logger, time ?? TimeProvider.System);
    }

    /// <summary>Completes when the client has connected once.</summary>
    public Task WaitForConnectionAsync(CancellationToken cancellationToken = default) =>
        _supervisor.FirstConnection.WaitAsync(cancellationToken);

    /// <summary>Sends a command and returns its reply.</summary>
    /// <exception cref="RedisServerException">The server answered with an error.</exception>
    /// <exception cref="RedisConnectionException">There is no connection, or it was lost before the reply.</exception>
    /// <exception cref="RedisTimeoutException">The reply did not arrive within the command timeout.</exception>
    public Task<RespValue> ExecuteAsync(ReadOnlySpan<RedisArgument> command, CancellationToken cancellationToken = default)
    {
        if (command.IsEmpty)
        {
            throw new ArgumentException("A command needs at least its name.", nameof(command));
        }

        // Not async, so starting the span would make it current in the caller's context and leave it
        // there; put the caller's activity back at once.
        var callers = Activity.Current;
        var activity = RedisTelemetry.StartCommand(command[0], Options);
        Activity.Current = callers;
        var connection = _supervisor.Current;
        if (connection is null)
        {
            var error = new RedisConnectionException(_supervisor.IsStopping
                ? $"The Redis client for {Options.EndpointDisplay} is disposed."
                : $"Not connected to Redis at {Options.EndpointDisplay}; reconnecting in the background.");
            RedisTelemetry.Fail(activity, error);
            activity?.Dispose();
            return Task.FromException<RespValue>(error);
        }

        return AwaitReplyAsync(connection, connection.SendAsync(command), command[0], activity, cancellationToken);
    }

    private async Task<RespValue> AwaitReplyAsync(RedisConnection connection, Task<RespValue> reply, RedisArgument commandName, Activity? activity, CancellationToken cancellationToken)
    {
        try
        {
            return await reply.WaitAsync(Options.CommandTimeout, _time, cancellationToken);
        }
        catch (TimeoutException ex)
        {
            ObserveAbandoned(reply);
            var message = $"Redis at {Options.EndpointDisplay} did not answer {commandName} within {Options.CommandTimeout.TotalMilliseconds:0} ms.";
            // Replies come back in order, so every command sent after this one is stuck too: replace the connection.
            connection.Abort(message);
            var error = new RedisTimeoutException(message, ex);
            RedisTelemetry.Fail(activity, error);
            throw error;
        }
        catch (Exception ex)
        {
            if (ex is OperationCanceledException)
            {
                ObserveAbandoned(reply);
            }

            RedisTelemetry.Fail(activity, ex);
            throw;
        }
        finally
        {
            activity?.Dispose();
        }
    }

    /// <summary>Nobody awaits a reply once its caller gave up; observe its failure so it is not reported as unobserved.</summary>
    private static void ObserveAbandoned(Task<RespValue> reply) =>
        reply.ContinueWith(static task => _ = task.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _supervisor.DisposeAsync();
}
