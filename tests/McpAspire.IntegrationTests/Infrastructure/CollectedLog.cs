using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>
/// A log provider that keeps every message a service logs at <paramref name="minimum"/> or above (as far as the
/// service's own filters let them through), for tests to read.
/// </summary>
public sealed class CollectedLog(LogLevel minimum) : ILoggerProvider, ILogger
{
    public ConcurrentQueue<string> Messages { get; } = new();

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            Messages.Enqueue(formatter(state, exception));
        }
    }

    public void Dispose()
    {
    }
}
