using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;

namespace McpAspire.ServiceDefaults.Redis;

/// <summary>
/// A Redis client over one multiplexed connection that reconnects by itself. While it is
/// disconnected, commands fail at once with <see cref="RedisConnectionException"/> rather than
/// queueing; every command fails with <see cref="RedisTimeoutException"/> if its reply takes longer
/// than <see cref="RedisConnectionOptions.CommandTimeout"/>.
/// </summary>
public sealed partial class RedisClient : IAsyncDisposable
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _firstConnection = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _supervisor;
    private RedisConnection? _connection;

    private RedisClient(RedisConnectionOptions options, ILogger logger, TimeProvider time)
    {
        Options = options;
        _logger = logger;
        _time = time;
        _supervisor = Task.Run(SuperviseAsync);
    }

    /// <summary>The options the client was created with.</summary>
    public RedisConnectionOptions Options { get; }

    /// <summary>Why the last attempt to connect failed, or <see langword="null"/> after a successful one.</summary>
    public string? LastConnectionError { get; private set; }

    /// <summary>Whether a connection is open now.</summary>
    public bool IsConnected => Volatile.Read(ref _connection)?.IsOpen == true;

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
        _firstConnection.Task.WaitAsync(cancellationToken);

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

        var connection = Volatile.Read(ref _connection);
        if (connection is null || !connection.IsOpen)
        {
            return Task.FromException<RespValue>(new RedisConnectionException(
                _stopping.IsCancellationRequested
                    ? $"The Redis client for {Options.EndpointDisplay} is disposed."
                    : $"Not connected to Redis at {Options.EndpointDisplay}; reconnecting in the background."));
        }

        return AwaitReplyAsync(connection, connection.SendAsync(command), command[0].ToString(), cancellationToken);
    }

    private async Task<RespValue> AwaitReplyAsync(RedisConnection connection, Task<RespValue> reply, string commandName, CancellationToken cancellationToken)
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
            throw new RedisTimeoutException(message, ex);
        }
        catch (OperationCanceledException)
        {
            ObserveAbandoned(reply);
            throw;
        }
    }

    /// <summary>Nobody awaits a reply once its caller gave up; observe its failure so it is not reported as unobserved.</summary>
    private static void ObserveAbandoned(Task<RespValue> reply) =>
        reply.ContinueWith(static task => _ = task.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "The supervisor must outlive any single failure.")]
    private async Task SuperviseAsync()
    {
        var failures = 0;
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                var connection = await RedisConnection.ConnectAsync(Options, _stopping.Token);
                Volatile.Write(ref _connection, connection);
                failures = 0;
                LastConnectionError = null;
                LogConnected(Options.EndpointDisplay);
                _firstConnection.TrySetResult();
                await connection.Closed.WaitAsync(_stopping.Token);
                LogConnectionLost(Options.EndpointDisplay);

                // Wait one backoff step before reconnecting, so a server that keeps dropping connections is not hammered.
                failures = 1;
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                failures++;
                LastConnectionError = ex.Message;
                LogConnectFailed(failures, Options.EndpointDisplay, ex.Message);
            }

            try
            {
                await Task.Delay(RetryDelay(failures), _time, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Exponential backoff with full jitter, capped, so many clients do not reconnect in lockstep.</summary>
    internal static TimeSpan RetryDelay(int failures)
    {
        if (failures == 0)
        {
            return TimeSpan.Zero;
        }

        var ceiling = Math.Min(MaxRetryDelay.TotalMilliseconds, FirstRetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 16)));
#pragma warning disable CA5394 // Jitter needs no cryptographic randomness.
        var jittered = (ceiling / 2) + (Random.Shared.NextDouble() * ceiling / 2);
#pragma warning restore CA5394
        return TimeSpan.FromMilliseconds(jittered);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        await _supervisor;
        var connection = Interlocked.Exchange(ref _connection, null);
        if (connection is not null)
        {
            await connection.DisposeAsync();
        }

        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Connected to Redis at {Endpoint}")]
    private partial void LogConnected(string endpoint);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Lost the connection to Redis at {Endpoint}; reconnecting")]
    private partial void LogConnectionLost(string endpoint);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Redis connection attempt {Attempt} to {Endpoint} failed: {Reason}")]
    private partial void LogConnectFailed(int attempt, string endpoint, string reason);
}
