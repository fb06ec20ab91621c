using McpAspire.McpCoordinator;
using McpAspire.McpCoordinator.Registry;
using McpAspire.McpCoordinator.Routing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace McpAspire.UnitTests.Coordinator;

public sealed class NodeBreakersTests
{
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(5);

    private readonly ManualClock _clock = new();
    private readonly ScriptedProbe _probe = new();
    private readonly NodeBreakers _breakers;

    public NodeBreakersTests() => _breakers = new NodeBreakers(
        Options.Create(new CoordinatorOptions { BreakerMinimumThroughput = 4, BreakerFailureRatio = 0.5, BreakerBreakDuration = BreakDuration }),
        _clock,
        _probe,
        NullLogger<NodeBreakers>.Instance);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Failures_open_the_breaker_and_after_the_break_a_probe_not_a_call_closes_it()
    {
        var node = RegisteredNodes.Create("n1");
        await FeedAsync(ForwardOutcome.NotConnected("refused"), 4);
        var openedAdmits = _breakers.Admits(node);
        var refused = _breakers.RefusalOf(node.Id);
        Assert.False(openedAdmits);
        Assert.Equal(ForwardOutcomeKind.NotConnected, refused?.Kind);
        Assert.Contains("circuit breaker is open", refused?.Reason, StringComparison.Ordinal);
        Assert.Equal(0, _probe.Calls);

        _clock.Advance(BreakDuration);

        // Asking starts the probe; calls still stay away until it has answered.
        Assert.False(_breakers.Admits(node));
        var probed = await _probe.NextAsync();
        Assert.Same(node, probed);
        Assert.Equal("half-open", _breakers.StateOf(node.Id));
        Assert.False(_breakers.Admits(node));
        Assert.Equal(1, _probe.Calls);

        _probe.Answer(ForwardOutcome.Forwarded);
        await UntilStateAsync(node.Id, "closed");
        Assert.True(_breakers.Admits(node));
    }

    [Fact]
    public async Task A_failed_probe_opens_it_again_for_another_break_then_probes_again()
    {
        var node = await OpenUntilProbedAsync(ForwardOutcome.FailedAfterSend("reset"));

        _probe.Answer(ForwardOutcome.NotConnected("refused"));
        await UntilStateAsync(node.Id, "open");

        // Not before another whole break: nothing signals a probe that does not start, so give one time to.
        Assert.False(_breakers.Admits(node));
        await Task.Delay(50, Cancel);
        Assert.Equal(1, _probe.Calls);
        _clock.Advance(BreakDuration);
        await UntilProbedAsync(node, calls: 2);
        await _probe.NextAsync();
        Assert.Equal(2, _probe.Calls);
        _probe.Answer(ForwardOutcome.Forwarded);
        await UntilStateAsync(node.Id, "closed");
    }

    [Fact]
    public async Task A_probe_that_throws_counts_as_failed_and_opens_it_again()
    {
        var node = await OpenUntilProbedAsync(ForwardOutcome.NotConnected("refused"));

        _probe.Throw(new OperationCanceledException("connect timed out", new TimeoutException()));

        await UntilStateAsync(node.Id, "open");
        Assert.False(_breakers.Admits(node));
    }

    [Fact]
    public async Task Refusals_and_successes_never_open_it_and_a_closed_breaker_never_probes()
    {
        var node = RegisteredNodes.Create("n1");

        await FeedAsync(ForwardOutcome.Refused("Server overloaded", TimeSpan.FromSeconds(1)), 20);
        await FeedAsync(ForwardOutcome.Forwarded, 20);
        _clock.Advance(BreakDuration);

        Assert.Equal("closed", _breakers.StateOf(node.Id));
        Assert.True(_breakers.Admits(node));
        Assert.Equal("closed", _breakers.StateOf("never-called"));
        Assert.Equal(0, _probe.Calls);
    }

    [Fact]
    public async Task A_call_that_ends_while_the_probe_is_out_decides_nothing()
    {
        var node = await OpenUntilProbedAsync(ForwardOutcome.NotConnected("refused"));

        // A long call sent before the breaker opened ends now, well or badly: only the probe is the trial.
        await _breakers.RecordAsync(node.Id, ForwardOutcome.Forwarded);
        await _breakers.RecordAsync(node.Id, ForwardOutcome.FailedAfterSend("reset"));
        Assert.Equal("half-open", _breakers.StateOf(node.Id));
        Assert.Equal(ForwardOutcomeKind.NotConnected, _breakers.RefusalOf(node.Id)?.Kind);

        _probe.Answer(ForwardOutcome.NotConnected("refused"));
        await UntilStateAsync(node.Id, "open");
    }

    [Fact]
    public async Task A_late_outcome_after_the_break_is_no_trial_the_probe_still_is()
    {
        var node = RegisteredNodes.Create("n1");
        Assert.Null(_breakers.RefusalOf("never-called"));
        await _breakers.RecordAsync(node.Id, ForwardOutcome.Forwarded);
        Assert.Null(_breakers.RefusalOf(node.Id));
        await FeedAsync(ForwardOutcome.BrokenMidStream("reset"), 4);
        _clock.Advance(BreakDuration);

        // A call sent before the breaker opened ends after its break: it is not the trial, and does not close it.
        await _breakers.RecordAsync(node.Id, ForwardOutcome.Forwarded);
        Assert.Equal("open", _breakers.StateOf(node.Id));

        Assert.False(_breakers.Admits(node));
        await _probe.NextAsync();
        _probe.Answer(ForwardOutcome.Forwarded);
        await UntilStateAsync(node.Id, "closed");
        Assert.Equal(1, _probe.Calls);
    }

    [Fact]
    public async Task A_forgotten_node_starts_closed()
    {
        var node = RegisteredNodes.Create("n1");
        await FeedAsync(ForwardOutcome.NotConnected("refused"), 4);
        Assert.Equal("open", _breakers.StateOf(node.Id));

        _breakers.Retain(new HashSet<string>(StringComparer.Ordinal) { "n2" });

        Assert.Equal("closed", _breakers.StateOf(node.Id));
        Assert.True(_breakers.Admits(node));
    }

    /// <summary>Opens n1's breaker with <paramref name="failure"/>s, lets the break pass, and waits for the probe to go out.</summary>
    private async Task<RegisteredNode> OpenUntilProbedAsync(ForwardOutcome failure)
    {
        var node = RegisteredNodes.Create("n1");
        await FeedAsync(failure, 4);
        _clock.Advance(BreakDuration);
        Assert.False(_breakers.Admits(node));
        await _probe.NextAsync();
        return node;
    }

    private async Task FeedAsync(ForwardOutcome outcome, int times)
    {
        for (var i = 0; i < times; i++)
        {
            await _breakers.RecordAsync("n1", outcome);
        }
    }

    /// <summary>The probe runs in the background: wait (up to a generous bound) for what it leads to.</summary>
    private async Task UntilStateAsync(string nodeId, string state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (_breakers.StateOf(nodeId) != state)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the breaker stayed {_breakers.StateOf(nodeId)}, not {state}");
            await Task.Delay(5, Cancel);
        }
    }

    /// <summary>
    /// Asks for the node, as the router would, until probe number <paramref name="calls"/> has gone out: the end of
    /// the probe before is recorded in the background, and until then asking starts no other.
    /// </summary>
    private async Task UntilProbedAsync(RegisteredNode node, int calls)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (_probe.Calls < calls)
        {
            Assert.False(_breakers.Admits(node));
            Assert.True(DateTime.UtcNow < deadline, $"only {_probe.Calls} probe(s) went out, not {calls}");
            await Task.Delay(5, Cancel);
        }
    }

    /// <summary>A probe the test answers: each call waits until <see cref="Answer"/>.</summary>
    private sealed class ScriptedProbe : INodeProbe
    {
        private readonly System.Threading.Channels.Channel<(RegisteredNode Node, TaskCompletionSource<ForwardOutcome> Answer)> _calls =
            System.Threading.Channels.Channel.CreateUnbounded<(RegisteredNode, TaskCompletionSource<ForwardOutcome>)>();

        private TaskCompletionSource<ForwardOutcome>? _pending;
        private int _count;

        public int Calls => Volatile.Read(ref _count);

        public Task<ForwardOutcome> ProbeAsync(RegisteredNode node, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            var answer = new TaskCompletionSource<ForwardOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
            _calls.Writer.TryWrite((node, answer));
            return answer.Task;
        }

        public async Task<RegisteredNode> NextAsync()
        {
            var (node, answer) = await _calls.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(15), TestContext.Current.CancellationToken);
            _pending = answer;
            return node;
        }

        public void Answer(ForwardOutcome outcome) => _pending!.SetResult(outcome);

        public void Throw(Exception exception) => _pending!.SetException(exception);
    }
}
