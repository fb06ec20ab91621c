using System.ComponentModel;
using McpAspire.McpNode.Services;
using ModelContextProtocol;
using ModelContextProtocol.Server;

namespace McpAspire.McpNode.Packs.Data;

/// <summary>
/// The <c>data</c> pack: a long-running tool done right. It streams its input (memory stays flat
/// however many records there are), reports progress as it goes, and stops within one record when
/// the call is cancelled.
/// </summary>
[McpServerToolType]
public sealed class DataTools
{
    /// <summary>The most records one call may generate.</summary>
    public const int MaxGeneratedRecords = 10_000_000;

    /// <summary>The longest simulated work per record, in milliseconds.</summary>
    public const int MaxDelayMs = 10_000;

    /// <summary>Up to this many records, progress is reported after every record; above it, every 1%.</summary>
    public const int ProgressPerRecordUpTo = 100;

    /// <summary>Aggregates a dataset's values: count, sum, min, max and mean.</summary>
    [CallTimeout(3600)]
    [EstimatedDuration("about count × delayMs milliseconds, plus about 1 s per million records")]
    [McpServerTool(Name = "process_dataset", ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false, UseStructuredContent = true)]
    [Description("Processes a dataset record by record and returns count, sum, min, max and mean of the values. " +
        "Give the records inline, or a count (and seed) to generate them. Reports progress per record (every 1% above 100 records) " +
        "and stops within one record when cancelled. Takes about count × delayMs milliseconds.")]
    public static async Task<DatasetSummary> ProcessDatasetAsync(
        IProgress<ProgressNotificationValue> progress,
        [Description("The records to process. Give either records or count.")] DatasetRecord[]? records = null,
        [Description("How many records to generate when none are given inline, 1 to 10000000.")] int? count = null,
        [Description("Seed of the generated records: the same seed and count give the same records.")] int seed = 0,
        [Description("Simulated work per record in milliseconds, 0 to 10000.")] int delayMs = 0,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(progress);
        if ((records is null) == (count is null))
        {
            throw new McpException("Give exactly one of 'records' (the data inline) or 'count' (records to generate).");
        }

        if (count is < 1 or > MaxGeneratedRecords)
        {
            throw new McpException($"'count' must be between 1 and {MaxGeneratedRecords}, not {count}.");
        }

        if (delayMs is < 0 or > MaxDelayMs)
        {
            throw new McpException($"'delayMs' must be between 0 and {MaxDelayMs}, not {delayMs}.");
        }

        var total = records?.Length ?? count!.Value;
        var step = total <= ProgressPerRecordUpTo ? 1 : Math.Max(1, total / 100);
        var summary = new RunningSummary();
        var processed = 0;
        foreach (var record in records ?? Generate(seed, total))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (delayMs > 0)
            {
                await Task.Delay(delayMs, cancellationToken);
            }

            summary.Add(record.Value);
            processed++;
            if (processed % step == 0 || processed == total)
            {
                progress.Report(new ProgressNotificationValue { Progress = processed, Total = total, Message = $"{processed} of {total} records" });
            }
        }

        return summary.ToResult();
    }

    /// <summary>Records generated on demand, one at a time, so none is held after it is processed.</summary>
    internal static IEnumerable<DatasetRecord> Generate(int seed, int count)
    {
#pragma warning disable CA5394 // Reproducible test data, not security.
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            yield return new DatasetRecord($"r{i}", Math.Round(random.NextDouble() * 1000, 3));
        }
#pragma warning restore CA5394
    }

    private sealed class RunningSummary
    {
        private long _count;
        private double _sum;
        private double _min = double.PositiveInfinity;
        private double _max = double.NegativeInfinity;

        public void Add(double value)
        {
            _count++;
            _sum += value;
            _min = Math.Min(_min, value);
            _max = Math.Max(_max, value);
        }

        public DatasetSummary ToResult() => _count == 0
            ? new DatasetSummary(0, 0, null, null, null)
            : new DatasetSummary(_count, _sum, _min, _max, _sum / _count);
    }
}

/// <summary>One record of a dataset.</summary>
/// <param name="Id">The record's id.</param>
/// <param name="Value">The value aggregated.</param>
public sealed record DatasetRecord([property: Description("The record's id.")] string Id, [property: Description("The value to aggregate.")] double Value);

/// <summary>The answer of <c>process_dataset</c>.</summary>
/// <param name="Count">Records processed.</param>
/// <param name="Sum">Sum of the values.</param>
/// <param name="Min">Smallest value, or <see langword="null"/> for no records.</param>
/// <param name="Max">Largest value, or <see langword="null"/> for no records.</param>
/// <param name="Mean">Mean of the values, or <see langword="null"/> for no records.</param>
public sealed record DatasetSummary(long Count, double Sum, double? Min, double? Max, double? Mean);
