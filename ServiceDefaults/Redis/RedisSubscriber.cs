using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;

namespace McpAspire.ServiceDefaults.Redis;

/// <summary>A message received on a subscribed channel.</summary>
/// <param name="Channel">The channel it was published on.</param>
/// <param name="Payload">The message's bytes.</param>
public sealed record RedisPubSubMessage(string Channel, ReadOnlyMemory<byte> Payload)
{
    /// <summary>The payload as UTF-8 text.</summary>
    public string PayloadText => System.Text.Encoding.UTF8.GetString(Payload.Span);
}

/// <summary>
/// Redis pub/sub on a connection of its own (a subscribed connection can run no other command). It
/// reconnects with backoff like <see cref="RedisClient"/> and subscribes every channel again on each
/// new connection. Pub/sub delivers at most once: messages published while disconnected are lost, so
/// <see cref="Resubscribed"/> tells consumers when to re-read the state they follow. A health
/// <c>PING</c> every <see cref="RedisConnectionOptions.CommandTimeout"/> replaces a connection whose
/// server stopped answering.
/// </summary>
public sealed partial class RedisSubscriber : IAsyncDisposable
{
    private static readonly TimeSpan MinimumPingInterval = TimeSpan.FromSeconds(1);

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<Action<RedisPubSubMessage>>> _handlers = new(StringComparer.Ordinal);
    private readonly RedisConnectionSupervisor _supervisor;
    private PushState? _state;

    private RedisSubscriber(RedisConnectionOptions options, ILogger logger, TimeProvider time)
    {
        Options = options;
        _logger = logger;
        _time = time;
        _supervisor = new RedisConnectionSupervisor(options, logger, time, OnConnectedAsync);
    }

    /// <summary>
    /// Raised after every new connection (the first included) once all channels are subscribed again.
    /// Messages published while there was no connection were not delivered; re-read what you follow.
    /// </summary>
    public event EventHandler? Resubscribed;

    /// <summary>The options the subscriber was created with.</summary>
    public RedisConnectionOptions Options { get; }

    /// <summary>Whether the subscriber's connection is open now.</summary>
    public bool IsConnected => _supervisor.Current is not null;

    /// <summary>Creates the subscriber and starts connecting in the background.</summary>
    public static RedisSubscriber Create(RedisConnectionOptions options, ILogger<RedisSubscriber> logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        return new RedisSubscriber(options, logger, time ?? TimeProvider.System);
    }

    /// <summary>Completes when the subscriber has connected once.</summary>
    public Task WaitForConnectionAsync(CancellationToken cancellationToken = default) =>
        _supervisor.FirstConnection.WaitAsync(cancellationToken);

    /// <summary>
    /// Calls <paramref name="handler"/> for every message on <paramref name="channel"/> until the returned
    /// subscription is disposed. Returns once the server has confirmed the subscription; while there is
    /// no connection it returns at once, and the channel is subscribed on the next connection. Handlers
    /// run on the connection's read loop: keep them short and hand longer work off.
    /// </summary>
    public async Task<IAsyncDisposable> SubscribeAsync(string channel, Action<RedisPubSubMessage> handler, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ArgumentNullException.ThrowIfNull(handler);
        ObjectDisposedException.ThrowIf(_supervisor.IsStopping, this);
        Task? confirmed = null;
        PushState? state;
        lock (_gate)
        {
            if (!_handlers.TryGetValue(channel, out var list))
            {
                _handlers[channel] = list = [];
            }

            list.Add(handler);
            // Under the gate, so a connection being set up either lists this channel or is seen here,
            // and SUBSCRIBE and UNSUBSCRIBE of one channel go out in the order they were decided.
            state = _state;
            if (list.Count == 1 && state is { Connection.IsOpen: true })
            {
                confirmed = state.PostSubscribe([channel]);
            }
        }

        if (confirmed is not null)
        {
            try
            {
                await state!.WaitForConfirmationAsync(confirmed, Options.CommandTimeout, _time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Unsubscribe(channel, handler);
                throw;
            }
        }

        return new Subscription(this, channel, handler);
    }

    private void Unsubscribe(string channel, Action<RedisPubSubMessage> handler)
    {
        lock (_gate)
        {
            if (!_handlers.TryGetValue(channel, out var list) || !list.Remove(handler) || list.Count > 0)
            {
                return;
            }

            _handlers.Remove(channel);
            _state?.Connection.Post(["UNSUBSCRIBE", channel]);
        }
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A failing event handler must not cost the connection.")]
    private async Task OnConnectedAsync(RedisConnection connection, CancellationToken stopping)
    {
        var state = new PushState(this, connection);
        connection.EnterPushMode(state.OnPush);
        Task? confirmed = null;
        int channels;
        lock (_gate)
        {
            _state = state;
            channels = _handlers.Count;
            if (channels > 0)
            {
                confirmed = state.PostSubscribe([.. _handlers.Keys]);
            }
        }

        if (confirmed is not null)
        {
            await state.WaitForConfirmationAsync(confirmed, Options.CommandTimeout, _time, stopping);
        }

        _ = KeepAliveAsync(connection, state);
        LogSubscribed(channels, Options.EndpointDisplay);
        try
        {
            Resubscribed?.Invoke(this, EventArgs.Empty);
        }
        catch (Exception ex)
        {
            LogResubscribedHandlerFailed(ex);
        }
    }

    /// <summary>Pings the server on a quiet subscribed connection; a missing pong closes the connection, and the supervisor reconnects.</summary>
    private async Task KeepAliveAsync(RedisConnection connection, PushState state)
    {
        var interval = Options.CommandTimeout > MinimumPingInterval ? Options.CommandTimeout : MinimumPingInterval;
        while (connection.IsOpen)
        {
            try
            {
                await connection.Closed.WaitAsync(interval, _time);
                return;
            }
            catch (TimeoutException)
            {
                // Time for a ping.
            }

            if (!await state.PingAsync(Options.CommandTimeout, _time))
            {
                connection.Abort($"Redis at {Options.EndpointDisplay} did not answer the subscriber's PING within {Options.CommandTimeout.TotalMilliseconds:0} ms.");
                return;
            }
        }
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A failing handler must not take the connection, or other handlers, down with it.")]
    private void Dispatch(string channel, ReadOnlyMemory<byte> payload)
    {
        Action<RedisPubSubMessage>[] handlers;
        lock (_gate)
        {
            if (_supervisor.IsStopping || !_handlers.TryGetValue(channel, out var list))
            {
                return;
            }

            handlers = [.. list];
        }

        var message = new RedisPubSubMessage(channel, payload);
        foreach (var handler in handlers)
        {
            try
            {
                handler(message);
            }
            catch (Exception ex)
            {
                LogHandlerFailed(ex, channel);
            }
        }
    }

    /// <summary>Stops delivery and closes the connection. A message already being dispatched may still reach its handlers.</summary>
    public ValueTask DisposeAsync() => _supervisor.DisposeAsync();

    [LoggerMessage(EventId = 1110, Level = LogLevel.Information, Message = "Subscribed to {Channels} channel(s) on Redis at {Endpoint}")]
    private partial void LogSubscribed(int channels, string endpoint);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Error, Message = "A handler of Redis channel {Channel} failed")]
    private partial void LogHandlerFailed(Exception error, string channel);

    [LoggerMessage(EventId = 1112, Level = LogLevel.Error, Message = "A Resubscribed handler of the Redis subscriber failed")]
    private partial void LogResubscribedHandlerFailed(Exception error);

    /// <summary>One subscribed connection and what it waits for: subscription confirmations and pongs.</summary>
    private sealed class PushState(RedisSubscriber owner, RedisConnection connection)
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<string, TaskCompletionSource> _confirmations = new(StringComparer.Ordinal);
        private TaskCompletionSource? _pong;

        public RedisConnection Connection => connection;

        /// <summary>Sends SUBSCRIBE; the task completes when the server has confirmed every channel.</summary>
        public Task PostSubscribe(string[] channels)
        {
            var waits = new Task[channels.Length];
            var command = new RedisArgument[channels.Length + 1];
            command[0] = "SUBSCRIBE";
            lock (_gate)
            {
                for (var i = 0; i < channels.Length; i++)
                {
                    if (!_confirmations.TryGetValue(channels[i], out var confirmation))
                    {
                        _confirmations[channels[i]] = confirmation = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    }

                    waits[i] = confirmation.Task;
                    command[i + 1] = channels[i];
                }
            }

            connection.Post(command);
            return Task.WhenAll(waits);
        }

        /// <summary>
        /// Waits for <paramref name="confirmed"/>. A connection lost meanwhile is fine: the next one
        /// subscribes every channel again. One that stays silent is replaced.
        /// </summary>
        public async Task WaitForConfirmationAsync(Task confirmed, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
        {
            try
            {
                await Task.WhenAny(confirmed, connection.Closed).WaitAsync(timeout, time, cancellationToken);
            }
            catch (TimeoutException)
            {
                connection.Abort($"Redis did not confirm SUBSCRIBE within {timeout.TotalMilliseconds:0} ms.");
            }
        }

        public async Task<bool> PingAsync(TimeSpan timeout, TimeProvider time)
        {
            var pong = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _pong, pong);
            connection.Post(["PING"]);
            try
            {
                await pong.Task.WaitAsync(timeout, time);
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }

        public void OnPush(RespValue push)
        {
            // With no channel subscribed, PING gets a plain +PONG rather than a push.
            if (push.Type == RespType.SimpleString && push.AsString() == "PONG")
            {
                Volatile.Read(ref _pong)?.TrySetResult();
                return;
            }

            if (push.Type != RespType.Array || push.Items is not { Count: >= 2 } items)
            {
                return;
            }

            switch (items[0].AsString())
            {
                case "message" when items.Count == 3 && items[1].AsString() is { } channel:
                    owner.Dispatch(channel, items[2].Bytes ?? []);
                    break;
                case "subscribe" when items[1].AsString() is { } channel:
                    lock (_gate)
                    {
                        if (_confirmations.Remove(channel, out var confirmation))
                        {
                            confirmation.TrySetResult();
                        }
                    }

                    break;
                case "pong":
                    Volatile.Read(ref _pong)?.TrySetResult();
                    break;
            }
        }
    }

    private sealed class Subscription(RedisSubscriber owner, string channel, Action<RedisPubSubMessage> handler) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            owner.Unsubscribe(channel, handler);
            return ValueTask.CompletedTask;
        }
    }
}
