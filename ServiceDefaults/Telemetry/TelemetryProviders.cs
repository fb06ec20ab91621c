using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace McpAspire.ServiceDefaults.Telemetry;

/// <summary>
/// Owns the tracer and meter providers. It is a hosted service, so the container creates it at
/// start-up, and it is disposed with the container after every other service has stopped. Disposing
/// the providers flushes the spans and metrics still batched, so the last requests are not lost.
/// </summary>
internal sealed class TelemetryProviders(TracerProvider tracing, MeterProvider metrics) : IHostedService, IDisposable
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        tracing.Dispose();
        metrics.Dispose();
    }
}
