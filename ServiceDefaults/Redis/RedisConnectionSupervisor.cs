using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;

namespace McpAspire.ServiceDefaults.Redis;

/// <summary>
/// Keeps one connection open: connects, hands each new connection to its owner, waits for it to
/// close, and reconnects with exponential backoff and full jitter, until stopped.
/// </summary>
internal sealed partial class RedisConnectionSupervisor : IAsyncDisposable
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    // Capped low, so a client is back within about 2 s of its server, however long the outage was.
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(2);

    private readonly RedisConnectionOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Func<RedisConnection, CancellationToken, Task> _onConnected;
    private readonly TaskCompletionSource _firstConnection = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private RedisConnection? _connection;

    /// <param name="options">Where to connect.</param>
    /// <param name="logger">Where connection changes are logged.</param>
    /// <param name="time">The clock of the backoff.</param>
    /// <param name="onConnected">Runs for each new connection before it counts as connected; a failure closes the connection and backs off.</param>
    public RedisConnectionSupervisor(RedisConnectionOptions options, ILogger logger, TimeProvider time, Func<RedisConnection, CancellationToken, Task> onConnected)
    {
        _options = options;
        _logger = logger;
        _time = time;
        _onConnected = onConnected;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>The open connection, or <see langword="null"/>.</summary>
    public RedisConnection? Current => Volatile.Read(ref _connection) is { IsOpen: true } open ? open : null;

    /// <summary>Why the last attempt to connect failed, or <see langword="null"/> after a successful one.</summary>
    public string? LastError { get; private set; }

    /// <summary>Whether <see cref="DisposeAsync"/> has been called.</summary>
    public bool IsStopping => _stopping.IsCancellationRequested;

    /// <summary>Completes when the first connection is up.</summary>
    public Task FirstConnection => _firstConnection.Task;

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "The supervisor must outlive any single failure.")]
    private async Task RunAsync()
    {
        var failures = 0;
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                var connection = await RedisConnection.ConnectAsync(_options, _stopping.Token);
                try
                {
                    await _onConnected(connection, _stopping.Token);
                }
                catch
                {
                    await connection.DisposeAsync();
                    throw;
                }

                Volatile.Write(ref _connection, connection);
                failures = 0;
                LastError = null;
                LogConnected(_options.EndpointDisplay);
                _firstConnection.TrySetResult();
                await connection.Closed.WaitAsync(_stopping.Token);
                LogConnectionLost(_options.EndpointDisplay);

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
                LastError = ex.Message;
                LogConnectFailed(failures, _options.EndpointDisplay, ex.Message);
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

    /// <summary>Stops reconnecting and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        await _loop;
        _firstConnection.TrySetException(new RedisConnectionException($"The Redis client for {_options.EndpointDisplay} was disposed before it connected."));
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
