using McpAspire.McpNode.Packs.Data;
using ModelContextProtocol;

namespace McpAspire.UnitTests.Node;

[Collection(nameof(DataToolsTests))]
public sealed class DataToolsTests
{
    [Fact]
    public void Generated_records_depend_only_on_seed_and_count()
    {
        Assert.Equal(DataTools.Generate(42, 100), DataTools.Generate(42, 100));
        Assert.NotEqual(DataTools.Generate(42, 100), DataTools.Generate(43, 100));
        Assert.Equal(100, DataTools.Generate(42, 100).Count());
    }

    [Fact]
    public async Task A_million_generated_records_are_streamed_and_memory_stays_flat()
    {
        long? atOnePercent = null;
        long atEnd = 0;
        var progress = new Recorder(value =>
        {
            if (value.Progress == 10_000)
            {
                atOnePercent = GC.GetTotalMemory(forceFullCollection: true);
            }
            else if (value.Progress == 1_000_000)
            {
                atEnd = GC.GetTotalMemory(forceFullCollection: true);
            }
        });

        var summary = await DataTools.ProcessDatasetAsync(progress, count: 1_000_000, seed: 1, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(1_000_000, summary.Count);
        // Holding a million records would keep about 100 MB alive by the end; streaming keeps the heap where it was.
        Assert.True(atEnd - atOnePercent!.Value < 16 * 1024 * 1024, $"The live heap grew by {(atEnd - atOnePercent.Value) / 1024} KiB while processing.");
    }

    [Fact]
    public async Task Cancellation_is_honoured_within_one_record()
    {
        using var cancel = new CancellationTokenSource();
        var progress = new Recorder(value =>
        {
            if (value.Progress == 3)
            {
                cancel.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            DataTools.ProcessDatasetAsync(progress, count: 50, cancellationToken: cancel.Token));
        Assert.Equal(3, progress.Last);
    }

    private sealed class Recorder(Action<ProgressNotificationValue> onReport) : IProgress<ProgressNotificationValue>
    {
        public double Last { get; private set; }

        public void Report(ProgressNotificationValue value)
        {
            Last = value.Progress;
            onReport(value);
        }
    }
}

/// <summary>Runs <see cref="DataToolsTests"/> alone, so other tests' allocations do not show up in its heap measurements.</summary>
[CollectionDefinition(nameof(DataToolsTests), DisableParallelization = true)]
public sealed class DataToolsRunsAlone;
