using McpAspire.McpCoordinator.Registry;
using McpAspire.McpCoordinator.Routing;

namespace McpAspire.UnitTests.Coordinator;

public sealed class LeastLoadedSelectorTests
{
    private static readonly Func<string, int> NoLocalCalls = _ => 0;

    [Fact]
    public void Returns_nothing_without_candidates() =>
        Assert.Null(LeastLoadedSelector.Select([], NoLocalCalls, new Random(1)));

    [Fact]
    public void Returns_the_only_candidate_however_loaded()
    {
        var busy = RegisteredNodes.Create("a", inFlight: 10, maxConcurrency: 10);

        Assert.Same(busy, LeastLoadedSelector.Select([busy], NoLocalCalls, new Random(1)));
    }

    [Fact]
    public void Of_two_candidates_always_takes_the_less_loaded_relative_to_capacity()
    {
        var small = RegisteredNodes.Create("small", inFlight: 2, maxConcurrency: 4);
        var large = RegisteredNodes.Create("large", inFlight: 10, maxConcurrency: 100);
        var random = new Random(7);

        for (var i = 0; i < 100; i++)
        {
            Assert.Same(large, LeastLoadedSelector.Select([small, large], NoLocalCalls, random));
        }
    }

    [Fact]
    public void Counts_this_coordinators_own_in_flight_calls()
    {
        var a = RegisteredNodes.Create("a", inFlight: 1);
        var b = RegisteredNodes.Create("b", inFlight: 2);
        Func<string, int> local = id => id == "a" ? 5 : 0;

        Assert.Same(b, LeastLoadedSelector.Select([a, b], local, new Random(3)));
    }

    [Fact]
    public void Never_picks_the_most_loaded_of_three_and_spreads_over_the_rest()
    {
        RegisteredNode[] nodes = [RegisteredNodes.Create("a", inFlight: 0), RegisteredNodes.Create("b", inFlight: 0), RegisteredNodes.Create("hot", inFlight: 9)];
        var random = new Random(11);

        var picks = Enumerable.Range(0, 600).Select(_ => LeastLoadedSelector.Select(nodes, NoLocalCalls, random)!.Id).ToList();

        Assert.DoesNotContain("hot", picks);
        Assert.InRange(picks.Count(id => id == "a"), 200, 400);
    }
}
