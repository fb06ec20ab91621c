using System.Threading.RateLimiting;
using McpAspire.Mcp;
using Microsoft.Extensions.Options;

namespace McpAspire.McpNode.Services;

/// <summary>
/// The node's admission control. At most <see cref="NodeOptions.MaxConcurrentCalls"/> tool calls run
/// at once and <see cref="NodeOptions.MaxQueuedCalls"/> wait, oldest first; any call beyond that, and
/// every call once the node is draining (it is stopping, or an operator asked it to drain), is refused at
/// once as overloaded. The heartbeat reports
/// <see cref="Load"/>, running plus waiting, for load-aware routing.
/// </summary>
public sealed class NodeLoad : IMcpCallAdmission, IDisposable
{
    private static readonly TimeSpan OverloadedRetryAfter = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan DrainingRetryAfter = TimeSpan.FromSeconds(5);

    private readonly ConcurrencyLimiter _limiter;
    private volatile bool _stopping;
    private volatile bool _drainRequested;

    /// <summary>Creates the limiter from the node's options; the node starts draining when the host starts stopping.</summary>
    public NodeLoad(IOptions<NodeOptions> options, IHostApplicationLifetime lifetime)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(lifetime);
        lifetime.ApplicationStopping.Register(() => _stopping = true);
        MaxConcurrency = options.Value.MaxConcurrentCalls;
        MaxQueued = options.Value.MaxQueuedCalls;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = MaxConcurrency,
            QueueLimit = MaxQueued,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>How many calls run at once.</summary>
    public int MaxConcurrency { get; }

    /// <summary>How many calls may wait for a slot.</summary>
    public int MaxQueued { get; }

    /// <summary>Tool calls running now.</summary>
    public int InFlight => MaxConcurrency - (int)(_limiter.GetStatistics()?.CurrentAvailablePermits ?? MaxConcurrency);

    /// <summary>Tool calls waiting for a slot now.</summary>
    public int Queued => (int)(_limiter.GetStatistics()?.CurrentQueuedCount ?? 0);

    /// <summary>Running plus waiting: what the heartbeat reports.</summary>
    public int Load => InFlight + Queued;

    /// <summary>Whether the node is draining: it finishes what it has and takes nothing new.</summary>
    public bool IsDraining => _stopping || _drainRequested;

    /// <summary>Whether an operator has asked the node to drain (<see cref="McpAspire.Cluster.ClusterKeys.DrainRequest"/>).</summary>
    public bool IsDrainRequested => _drainRequested;

    /// <summary>
    /// Drains on an operator's request, or takes calls again once it is withdrawn; calls already admitted or
    /// queued run either way. A node that is stopping stays draining.
    /// </summary>
    public void SetDrainRequested(bool requested) => _drainRequested = requested;

    /// <inheritdoc/>
    public async ValueTask<McpAdmission> AdmitAsync(CancellationToken cancellationToken)
    {
        if (_stopping)
        {
            return McpAdmission.Refused("this node is draining before it stops.", DrainingRetryAfter);
        }

        if (_drainRequested)
        {
            return McpAdmission.Refused("this node is draining: an operator asked it to take no new calls.", DrainingRetryAfter);
        }

        var lease = await _limiter.AcquireAsync(1, cancellationToken);
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            return McpAdmission.Refused(
                $"this node already runs {MaxConcurrency} tool calls and has {MaxQueued} waiting (Node:MaxConcurrentCalls, Node:MaxQueuedCalls).",
                OverloadedRetryAfter);
        }

        return McpAdmission.Admitted(lease);
    }

    /// <inheritdoc/>
    public void Dispose() => _limiter.Dispose();
}
