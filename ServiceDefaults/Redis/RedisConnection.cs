using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading.Channels;

namespace McpAspire.ServiceDefaults.Redis;

/// <summary>
/// One TCP connection to the server, shared by every caller. Commands are pipelined: a single
/// writer loop sends them in order and records each in a FIFO; the reader loop pairs each reply
/// with the oldest pending command. When the socket fails, every pending command fails with
/// <see cref="RedisConnectionException"/>, and so does every later one: a connection is never reused.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly string _endpoint;
    private readonly Channel<PendingCommand> _outbound =
        Channel.CreateUnbounded<PendingCommand>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Queue<PendingCommand> _awaitingReply = new();
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _fault;
    private Action<RespValue>? _onPush;

    private RedisConnection(Stream stream, string endpoint)
    {
        _stream = stream;
        _endpoint = endpoint;
        _input = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        _output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        _ = Task.Run(WriteLoopAsync);
        _ = Task.Run(ReadLoopAsync);
    }

    /// <summary>Completes when the connection has failed or been disposed; carries the reason.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Whether the connection can still take commands.</summary>
    public bool IsOpen => Volatile.Read(ref _fault) is null;

    /// <summary>Connects, negotiates TLS if asked, authenticates and selects the database.</summary>
    public static async Task<RedisConnection> ConnectAsync(RedisConnectionOptions options, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        // Keepalive notices a peer that vanished (a partition, a dead host) even while no command is pending.
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 15);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 5);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(options.Host, options.Port, timeout.Token);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (options.UseTls)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = options.Host, RemoteCertificateValidationCallback = options.CertificateValidation }, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
            if (stream is not null)
            {
                await stream.DisposeAsync();
            }
            else
            {
                socket.Dispose();
            }

            cancellationToken.ThrowIfCancellationRequested();
            throw new RedisConnectionException($"Could not connect to Redis at {options.EndpointDisplay}: {ex.Message}", ex);
        }

        var connection = new RedisConnection(stream, options.EndpointDisplay);
        try
        {
            if (options.Password is not null)
            {
                await (options.User is null
                    ? connection.SendAsync(["AUTH", options.Password])
                    : connection.SendAsync(["AUTH", options.User, options.Password])).WaitAsync(timeout.Token);
            }

            if (options.Database != 0)
            {
                await connection.SendAsync(["SELECT", options.Database]).WaitAsync(timeout.Token);
            }

            // Only a server that answers counts as connected: one that accepts and hangs up (a proxy with
            // no backend, "max clients reached") fails here and is retried with backoff.
            await connection.SendAsync(["PING"]).WaitAsync(timeout.Token);
        }
        catch (Exception ex)
        {
            await connection.DisposeAsync();
            cancellationToken.ThrowIfCancellationRequested();
            throw ex is RedisException
                ? new RedisConnectionException($"Redis at {options.EndpointDisplay} refused the handshake: {ex.Message}", ex)
                : new RedisConnectionException($"The handshake with Redis at {options.EndpointDisplay} did not finish: {ex.Message}", ex);
        }

        return connection;
    }

    /// <summary>Queues a command; the task completes with its reply, or fails if the server or the connection does.</summary>
    public Task<RespValue> SendAsync(ReadOnlySpan<RedisArgument> arguments)
    {
        var command = new PendingCommand(arguments);
        if (!_outbound.Writer.TryWrite(command))
        {
            command.Fail(ClosedException());
        }

        return command.Task;
    }

    /// <summary>
    /// Switches the connection to subscriber mode: from now on, replies that no pending command waits
    /// for (pub/sub messages and subscription confirmations) go to <paramref name="onPush"/>, on the
    /// read loop. Commands sent with <see cref="Post"/> expect no paired reply.
    /// </summary>
    public void EnterPushMode(Action<RespValue> onPush) => Volatile.Write(ref _onPush, onPush);

    /// <summary>Sends a command whose answers arrive as pushes (<c>SUBSCRIBE</c>, <c>UNSUBSCRIBE</c>, <c>PING</c> in subscriber mode).</summary>
    public void Post(ReadOnlySpan<RedisArgument> arguments)
    {
        var command = new PendingCommand(arguments, expectsReply: false);
        if (!_outbound.Writer.TryWrite(command))
        {
            command.Fail(ClosedException());
        }
    }

    /// <summary>
    /// Closes the connection because it can no longer be trusted (a reply is overdue, so every later
    /// reply is stuck behind it); pending commands fail, and the client reconnects.
    /// </summary>
    public void Abort(string reason) => Fault(new IOException(reason));

    private async Task WriteLoopAsync()
    {
        try
        {
            var reader = _outbound.Reader;
            while (await reader.WaitToReadAsync())
            {
                while (reader.TryRead(out var command))
                {
                    lock (_gate)
                    {
                        if (_fault is not null)
                        {
                            command.Fail(ClosedException());
                            continue;
                        }

                        if (command.ExpectsReply)
                        {
                            _awaitingReply.Enqueue(command);
                        }
                    }

                    command.CopyTo(_output);
                }

                var flush = await _output.FlushAsync();
                if (flush.IsCompleted)
                {
                    throw new IOException("The server closed the connection.");
                }
            }
        }
        catch (Exception ex)
        {
            Fault(ex);
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var result = await _input.ReadAsync();
                var buffer = result.Buffer;
                while (Volatile.Read(ref _fault) is null && RespParser.TryParse(ref buffer, out var reply))
                {
                    PendingCommand? command;
                    lock (_gate)
                    {
                        _awaitingReply.TryDequeue(out command);
                    }

                    if (command is not null)
                    {
                        command.Complete(reply!);
                    }
                    else if (Volatile.Read(ref _onPush) is { } onPush)
                    {
                        onPush(reply!);
                    }
                    else
                    {
                        throw new RedisProtocolException("The server sent a reply to no command.");
                    }
                }

                _input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    throw new IOException("The server closed the connection.");
                }
            }
        }
        catch (Exception ex)
        {
            Fault(ex);
        }
    }

    private void Fault(Exception reason)
    {
        PendingCommand[] orphans;
        lock (_gate)
        {
            if (_fault is not null)
            {
                return;
            }

            _fault = reason;
            orphans = [.. _awaitingReply];
            _awaitingReply.Clear();
        }

        _outbound.Writer.TryComplete();
        var error = ClosedException();
        foreach (var orphan in orphans)
        {
            orphan.Fail(error);
        }

        while (_outbound.Reader.TryRead(out var queued))
        {
            queued.Fail(error);
        }

        // Closing the stream ends whichever loop is still blocked on it.
        _stream.Dispose();
        _closed.TrySetResult();
    }

    private RedisConnectionException ClosedException()
    {
        var reason = Volatile.Read(ref _fault);
        return reason is null or ObjectDisposedException
            ? new RedisConnectionException($"The connection to Redis at {_endpoint} is closed.")
            : new RedisConnectionException($"The connection to Redis at {_endpoint} was lost: {reason.Message}", reason);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        Fault(new ObjectDisposedException(nameof(RedisConnection)));
        return ValueTask.CompletedTask;
    }

    private sealed class PendingCommand
    {
        private readonly TaskCompletionSource<RespValue> _reply = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ArrayBufferWriter<byte> _payload = new(64);

        public PendingCommand(ReadOnlySpan<RedisArgument> arguments, bool expectsReply = true)
        {
            ExpectsReply = expectsReply;
            RespCommandEncoder.Encode(_payload, arguments);
        }

        public bool ExpectsReply { get; }

        public Task<RespValue> Task => _reply.Task;

        public void CopyTo(PipeWriter output) => output.Write(_payload.WrittenSpan);

        public void Complete(RespValue reply)
        {
            if (reply.Type == RespType.Error)
            {
                _reply.TrySetException(new RedisServerException(reply.AsString() ?? "ERR"));
            }
            else
            {
                _reply.TrySetResult(reply);
            }
        }

        public void Fail(Exception error)
        {
            // Nobody waits on a posted command, so it must not leave an unobserved faulted task.
            if (ExpectsReply)
            {
                _reply.TrySetException(error);
            }
            else
            {
                _reply.TrySetCanceled();
            }
        }
    }
}
