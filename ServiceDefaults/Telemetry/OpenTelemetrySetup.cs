using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace McpAspire.ServiceDefaults.Telemetry;

/// <summary>
/// Builds the OpenTelemetry providers. The usual hosting and instrumentation packages are not
/// available here, so the providers are created with the SDK and owned by the DI container, which
/// flushes and disposes them when the host stops.
/// </summary>
internal static class OpenTelemetrySetup
{
    /// <summary>Activity sources recorded: ASP.NET Core and HttpClient (built into .NET), and the project's own.</summary>
    public static readonly string[] ActivitySources = ["Microsoft.AspNetCore", "System.Net.Http", "McpAspire.*"];

    /// <summary>Meters recorded: .NET's built-in ones for the server, the client and the runtime, and the project's own.</summary>
    public static readonly string[] Meters =
    [
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Routing",
        "System.Net.Http", "System.Runtime", "McpAspire.*",
    ];

    public static void Configure(IHostApplicationBuilder builder)
    {
        var endpoint = builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return;
        }

        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"];
        void ConfigureResource(ResourceBuilder resource)
        {
            // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read by the SDK's default detectors.
            if (string.IsNullOrWhiteSpace(serviceName))
            {
                resource.AddService(builder.Environment.ApplicationName);
            }
        }

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
            var resource = ResourceBuilder.CreateDefault();
            ConfigureResource(resource);
            logging.SetResourceBuilder(resource);
            logging.AddOtlpExporter();
        });

        var tracing = Sdk.CreateTracerProviderBuilder()
            .ConfigureResource(ConfigureResource)
            .AddSource(ActivitySources)
            .AddOtlpExporter()
            .Build();
        var metrics = Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(ConfigureResource)
            .AddMeter(Meters)
            .AddOtlpExporter()
            .Build();
        builder.Services.AddSingleton(tracing);
        builder.Services.AddSingleton(metrics);
    }
}
