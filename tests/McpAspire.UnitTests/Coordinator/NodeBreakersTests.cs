using McpAspire.McpCoordinator;
using McpAspire.McpCoordinator.Routing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace McpAspire.UnitTests.Coordinator;

public sealed class NodeBreakersTests
{
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(5);

    private readonly ManualClock _clock = new();
    private readonly NodeBreakers _breakers;

    public NodeBreakersTests() => _breakers = new NodeBreakers(
        Options.Create(new CoordinatorOptions { BreakerMinimumThroughput = 4, BreakerFailureRatio = 0.5, BreakerBreakDuration = BreakDuration }),
        _clock,
        NullLogger<NodeBreakers>.Instance);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Failures_open_the_breaker_a_trial_after_the_break_duration_closes_it()
    {
        var node = RegisteredNodes.Create("n1");
        await FeedAsync(ForwardOutcome.NotConnected("refused"), 4);
        var openedAdmits = _breakers.Admits(node);
        var refused = await _breakers.ExecuteAsync(node.Id, () => Task.FromResult(ForwardOutcome.Forwarded), Cancel);

        _clock.Advance(BreakDuration);
        var dueAdmits = _breakers.Admits(node);
        var trial = await _breakers.ExecuteAsync(node.Id, () => Task.FromResult(ForwardOutcome.Forwarded), Cancel);

        Assert.False(openedAdmits);
        Assert.Equal(ForwardOutcomeKind.NotConnected, refused.Kind);
        Assert.Contains("circuit breaker is open", refused.Reason, StringComparison.Ordinal);
        Assert.True(dueAdmits);
        Assert.Equal(ForwardOutcomeKind.Forwarded, trial.Kind);
        Assert.Equal("closed", _breakers.StateOf(node.Id));
    }

    [Fact]
    public async Task A_failed_trial_opens_it_again_for_another_break()
    {
        var node = RegisteredNodes.Create("n1");
        await FeedAsync(ForwardOutcome.FailedAfterSend("reset"), 4);
        _clock.Advance(BreakDuration);

        await _breakers.ExecuteAsync(node.Id, () => Task.FromResult(ForwardOutcome.BrokenMidStream("reset")), Cancel);

        Assert.Equal("open", _breakers.StateOf(node.Id));
        Assert.False(_breakers.Admits(node));
        _clock.Advance(BreakDuration);
        Assert.True(_breakers.Admits(node));
    }

    [Fact]
    public async Task Refusals_and_successes_never_open_it()
    {
        var node = RegisteredNodes.Create("n1");

        await FeedAsync(ForwardOutcome.Refused("Server overloaded", TimeSpan.FromSeconds(1)), 20);
        await FeedAsync(ForwardOutcome.Forwarded, 20);

        Assert.Equal("closed", _breakers.StateOf(node.Id));
        Assert.True(_breakers.Admits(node));
        Assert.Equal("closed", _breakers.StateOf("never-called"));
    }

    private async Task FeedAsync(ForwardOutcome outcome, int times)
    {
        for (var i = 0; i < times; i++)
        {
            await _breakers.ExecuteAsync("n1", () => Task.FromResult(outcome), Cancel);
        }
    }
}
