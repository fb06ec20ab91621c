using System.ComponentModel;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using ModelContextProtocol.Server;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>A tool that ignores cancellation and runs until the test lets it go, as a badly written tool would.</summary>
[McpServerToolType]
public sealed class StubbornTools
{
    [McpServerTool(Name = "stubborn", ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("Runs until the test releases it, whatever its cancellation token says.")]
    public static async Task<string> RunAsync(StubbornGate gate)
    {
        ArgumentNullException.ThrowIfNull(gate);
        gate.Started.Release();
        await gate.Finish.WaitAsync(CancellationToken.None);
        return "finished at last";
    }
}

/// <summary>Signals that a <c>stubborn</c> call started, and lets it finish.</summary>
public sealed class StubbornGate : IDisposable
{
    public SemaphoreSlim Started { get; } = new(0);

    public SemaphoreSlim Finish { get; } = new(0);

    public void Dispose()
    {
        Started.Dispose();
        Finish.Dispose();
    }
}

/// <summary>Counts the HTTP requests a service is handling, so a test can wait until the server has finished one.</summary>
public sealed class ActiveRequests : IStartupFilter
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, inner) =>
        {
            Interlocked.Increment(ref _count);
            try
            {
                await inner(context);
            }
            finally
            {
                Interlocked.Decrement(ref _count);
            }
        });
        next(app);
    };
}
