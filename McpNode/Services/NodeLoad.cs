using Microsoft.Extensions.Options;

namespace McpAspire.McpNode.Services;

/// <summary>Counts the tool calls running on this node; the heartbeat reports it for load-aware routing.</summary>
public sealed class NodeLoad(IOptions<NodeOptions> options)
{
    private int _inFlight;

    /// <summary>Tool calls running now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>How many calls the node runs at once.</summary>
    public int MaxConcurrency => options.Value.MaxConcurrentCalls;

    /// <summary>Marks a call as started; dispose the result when it ends.</summary>
    public CallScope Enter()
    {
        Interlocked.Increment(ref _inFlight);
        return new CallScope(this);
    }

    /// <summary>Ends one call's share of the load when disposed.</summary>
    public readonly struct CallScope : IDisposable, IEquatable<CallScope>
    {
        private readonly NodeLoad? _owner;

        internal CallScope(NodeLoad owner) => _owner = owner;

        /// <inheritdoc/>
        public void Dispose()
        {
            if (_owner is not null)
            {
                Interlocked.Decrement(ref _owner._inFlight);
            }
        }

        /// <inheritdoc/>
        public bool Equals(CallScope other) => ReferenceEquals(_owner, other._owner);

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is CallScope other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode() => _owner?.GetHashCode() ?? 0;

        /// <summary>Compares two scopes.</summary>
        public static bool operator ==(CallScope left, CallScope right) => left.Equals(right);

        /// <summary>Compares two scopes.</summary>
        public static bool operator !=(CallScope left, CallScope right) => !left.Equals(right);
    }
}
