using System.Collections.Concurrent;
using McpAspire.McpCoordinator.Registry;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;

namespace McpAspire.McpCoordinator.Routing;

/// <summary>
/// A circuit breaker per node (Polly.Core), fed by the outcome of every call forwarded to it. When a node
/// keeps failing (it cannot be reached, or its answers fail), its breaker opens and the router leaves it
/// out. After <see cref="CoordinatorOptions.BreakerBreakDuration"/>, a probe (<see cref="INodeProbe"/>), not a
/// client's call, is the breaker's trial: a call could run for an hour, or be cancelled by its client, and
/// prove nothing either way, while the probe is answered at once by any node that is up. A node that refuses
/// calls because it is overloaded or draining is healthy, and does not count as failing.
/// </summary>
public sealed partial class NodeBreakers(IOptions<CoordinatorOptions> options, TimeProvider time, INodeProbe probe, ILogger<NodeBreakers> logger)
{
    /// <summary>How long a probe may take before it counts as failed.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    private static readonly ForwardOutcome BreakerOpen = ForwardOutcome.NotConnected("its circuit breaker is open");

    private readonly ConcurrentDictionary<string, Breaker> _breakers = new(StringComparer.Ordinal);

    /// <summary>The breaker's state for a node: <c>closed</c> (also for a node never called), <c>open</c> or <c>half-open</c> (its probe is out).</summary>
    public string StateOf(string nodeId) => _breakers.TryGetValue(nodeId, out var breaker)
        ? breaker.State.CircuitState switch
        {
            CircuitState.Open or CircuitState.Isolated => "open",
            CircuitState.HalfOpen => "half-open",
            _ => "closed",
        }
        : "closed";

    /// <summary>
    /// Whether the node may be sent a call: only while its breaker is closed. Once an open breaker's break is
    /// over, asking starts its probe (one at a time), whose outcome closes the breaker or opens it again.
    /// </summary>
    public bool Admits(RegisteredNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (!_breakers.TryGetValue(node.Id, out var breaker))
        {
            return true;
        }

        var state = breaker.State.CircuitState;
        if (state == CircuitState.Open && time.GetUtcNow().UtcTicks >= Volatile.Read(ref breaker.OpenUntilTicks)
            && Interlocked.CompareExchange(ref breaker.Probing, 1, 0) == 0)
        {
            _ = ProbeAsync(breaker, node);
        }

        return state == CircuitState.Closed;
    }

    /// <summary>Forgets the breakers of nodes not in <paramref name="liveNodeIds"/>: a node that comes back starts closed.</summary>
    public void Retain(IReadOnlySet<string> liveNodeIds) => _breakers.RetainKeys(liveNodeIds);

    /// <summary>
    /// What to answer instead of sending a call to the node: <see cref="ForwardOutcome.NotConnected"/> (nothing was sent)
    /// while its breaker is open or half-open; <see langword="null"/> while it is closed, or the node was never called.
    /// Unlike <see cref="Admits"/>, asking never starts a probe.
    /// </summary>
    public ForwardOutcome? RefusalOf(string nodeId) =>
        _breakers.TryGetValue(nodeId, out var breaker) && breaker.State.CircuitState != CircuitState.Closed ? BreakerOpen : null;

    /// <summary>
    /// Feeds the node's breaker the outcome of a call sent to it, once the call is over. Only a closed breaker counts it:
    /// an open one has nothing to learn from a call sent before it opened, and a half-open one waits for its probe
    /// (decision 7). A call that ended in an exception (its client went away, say) proves nothing, and is not fed at all.
    /// </summary>
    /// <remarks>
    /// The outcome goes through the breaker's pipeline after the call, not around it, with a callback that has the
    /// outcome already: the pipeline completes at once and allocates nothing, unless the outcome opens the breaker,
    /// when it waits (asynchronously) for Polly to run <c>OnOpened</c>. Polly's synchronous <c>Execute</c> would block a
    /// thread-pool thread on that instead, which under load can wait long for a thread to run it.
    /// </remarks>
    public async ValueTask RecordAsync(string nodeId, ForwardOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        // Looked up first: GetOrAdd with a method group would allocate a delegate on every call.
        if (!_breakers.TryGetValue(nodeId, out var breaker))
        {
            breaker = _breakers.GetOrAdd(nodeId, Create);
        }

        if (breaker.State.CircuitState != CircuitState.Closed)
        {
            return;
        }

        try
        {
            await breaker.Pipeline.ExecuteAsync(static (known, _) => ValueTask.FromResult(known), outcome, CancellationToken.None);
        }
        catch (BrokenCircuitException)
        {
            // Another call's outcome opened it just now.
        }
    }

    /// <summary>Runs the node's probe through its breaker, as the trial that decides it.</summary>
    private async Task ProbeAsync(Breaker breaker, RegisteredNode node)
    {
        try
        {
            // Off the caller's thread: the router asks while choosing a node for a client's call.
            await Task.Yield();
            var outcome = await breaker.Pipeline.ExecuteAsync(static async (state, token) => await ProbeSafelyAsync(state.probe, state.node, token), (probe, node), CancellationToken.None);
            LogProbed(node.Id, outcome.Kind, outcome.Reason ?? "answered");
        }
        catch (BrokenCircuitException)
        {
            // A client's call that was under way when the breaker opened became the trial first.
        }
        finally
        {
            Volatile.Write(ref breaker.Probing, 0);
        }
    }

    /// <summary>
    /// The probe's outcome, with anything it throws counted as a failure: the breaker counts an exception as a
    /// success, and a probe that cannot tell must not close it.
    /// </summary>
    private static async Task<ForwardOutcome> ProbeSafelyAsync(INodeProbe probe, RegisteredNode node, CancellationToken cancellationToken)
    {
        try
        {
            return await probe.ProbeAsync(node, cancellationToken);
        }
        catch (Exception ex)
        {
            return ForwardOutcome.FailedAfterSend($"the probe failed: {ex.Message}");
        }
    }

    private Breaker Create(string nodeId)
    {
        var settings = options.Value;
        var breaker = new Breaker();
        breaker.Pipeline = new ResiliencePipelineBuilder<ForwardOutcome> { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<ForwardOutcome>
            {
                FailureRatio = settings.BreakerFailureRatio,
                MinimumThroughput = settings.BreakerMinimumThroughput,
                SamplingDuration = settings.BreakerSamplingDuration,
                BreakDuration = settings.BreakerBreakDuration,
                StateProvider = breaker.State,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Result?.IsNodeFailure == true),
                OnOpened = args =>
                {
                    Volatile.Write(ref breaker.OpenUntilTicks, (time.GetUtcNow() + args.BreakDuration).UtcTicks);
                    LogOpened(nodeId, args.BreakDuration.TotalSeconds);
                    return default;
                },
                OnClosed = _ =>
                {
                    LogClosed(nodeId);
                    return default;
                },
            })
            .Build();
        return breaker;
    }

    private sealed class Breaker
    {
        public CircuitBreakerStateProvider State { get; } = new();

        public ResiliencePipeline<ForwardOutcome> Pipeline { get; set; } = ResiliencePipeline<ForwardOutcome>.Empty;

#pragma warning disable CA1051 // Fields, so Volatile and Interlocked can read and write them.
        public long OpenUntilTicks;

        public int Probing;
#pragma warning restore CA1051
    }

    [LoggerMessage(EventId = 3121, Level = LogLevel.Warning, Message = "Circuit breaker of node {NodeId} opened: no calls go to it for {Seconds} s, then a probe decides")]
    private partial void LogOpened(string nodeId, double seconds);

    [LoggerMessage(EventId = 3123, Level = LogLevel.Information, Message = "Probed node {NodeId} for its circuit breaker: {Outcome} ({Detail})")]
    private partial void LogProbed(string nodeId, ForwardOutcomeKind outcome, string detail);

    [LoggerMessage(EventId = 3122, Level = LogLevel.Information, Message = "Circuit breaker of node {NodeId} closed: it takes calls again")]
    private partial void LogClosed(string nodeId);
}
