using McpAspire.McpCoordinator.Registry;

namespace McpAspire.UnitTests.Coordinator;

public sealed class RegistryChangesTests
{
    [Fact]
    public void Every_listener_gets_every_change_in_order()
    {
        var changes = new RegistryChanges();
        using var first = changes.Listen();
        using var second = changes.Listen();

        changes.Publish([Change("join", "a"), Change("leave", "a")]);

        foreach (var listener in new[] { first, second })
        {
            Assert.True(listener.Reader.TryRead(out var one));
            Assert.True(listener.Reader.TryRead(out var two));
            Assert.Equal(("join", "leave"), (one.Type, two.Type));
        }
    }

    [Fact]
    public async Task A_listener_that_falls_too_far_behind_is_dropped_and_its_reader_completes()
    {
        var changes = new RegistryChanges();
        using var stalled = changes.Listen();
        using var keeping = changes.Listen();

        for (var i = 0; i <= RegistryChanges.Capacity; i++)
        {
            changes.Publish([Change("join", $"n{i}")]);
            ReadAll(keeping);
        }

        Assert.Equal(RegistryChanges.Capacity, ReadAll(stalled));
        await stalled.Reader.Completion.WaitAsync(TestContext.Current.CancellationToken);
        changes.Publish([Change("leave", "n0")]);
        Assert.True(keeping.Reader.TryRead(out var last));
        Assert.Equal("leave", last.Type);
    }

    /// <summary>Reads what is waiting, and returns how many changes that was.</summary>
    private static int ReadAll(RegistryChanges.Subscription listener)
    {
        var count = 0;
        while (listener.Reader.TryRead(out _))
        {
            count++;
        }

        return count;
    }

    private static RegistryChange Change(string type, string node) => new(type, node, DateTimeOffset.UnixEpoch);
}
