namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>
/// The system clock, moved on by <see cref="Shift"/>: a service given it sees heartbeats age at once, while its
/// timers still run in real time.
/// </summary>
public sealed class ShiftedClock : TimeProvider
{
    private long _shiftTicks;

    /// <summary>How far ahead of the system clock this one is.</summary>
    public TimeSpan Shift
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _shiftTicks));
        set => Interlocked.Exchange(ref _shiftTicks, value.Ticks);
    }

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Shift;
}
