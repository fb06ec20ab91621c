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
/// available here, so the providers are created with the SDK and handed to <see cref="TelemetryProviders"/>,
/// which flushes and disposes them when the host stops.
/// </summary>
internal static class OpenTelemetrySetup
{
    /// <summary>Activity sources recorded: ASP.NET Core and HttpClient (built into .NET), the MCP SDK's, and the project's own.</summary>
    public static readonly string[] ActivitySources = ["Microsoft.AspNetCore", "System.Net.Http", "McpAspire.*", McpSdkSource];

    /// <summary>Meters recorded: .NET's built-in ones for the server, the client and the runtime, and the project's own.</summary>
    public static readonly string[] Meters =
    [
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Routing",
        "System.Net.Http", "System.Runtime", "McpAspire.*", McpSdkSource,
    ];

    /// <summary>The names under which the OTLP exporters ask <see cref="IHttpClientFactory"/> for clients.</summary>
    public static readonly string[] ExporterHttpClients = ["OtlpTraceExporter", "OtlpMetricExporter", "OtlpLogExporter"];

    /// <summary>The MCP SDK's own source and meter: the node's MCP server spans and <c>mcp.server.operation.duration</c>.</summary>
    public const string McpSdkSource = "Experimental.ModelContextProtocol";

    public static void Configure(IHostApplicationBuilder builder)
    {
        var otlp = OtlpSettings.FromConfiguration(builder.Configuration);
        if (otlp is null)
        {
            return;
        }

        // Read from configuration (which includes the environment) so appsettings and test settings count too.
        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } configured ? configured : builder.Environment.ApplicationName;
        var attributes = ParseAttributes(builder.Configuration["OTEL_RESOURCE_ATTRIBUTES"]);
        void ConfigureResource(ResourceBuilder resource) => resource.AddService(serviceName).AddAttributes(attributes);

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
            var resource = ResourceBuilder.CreateDefault();
            ConfigureResource(resource);
            logging.SetResourceBuilder(resource);
            logging.AddOtlpExporter(options => otlp.Apply(options, "logs"));
        });

        var tracing = Sdk.CreateTracerProviderBuilder()
            .ConfigureResource(ConfigureResource)
            .AddSource(ActivitySources)
            .AddOtlpExporter(options => otlp.Apply(options, "traces"))
            .Build();
        var metrics = Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(ConfigureResource)
            .AddMeter(Meters)
            .AddOtlpExporter(options => otlp.Apply(options, "metrics"))
            .Build();
        builder.Services.AddHostedService(_ => new TelemetryProviders(tracing, metrics));
    }

    /// <summary>Parses <c>key1=value1,key2=value2</c>, skipping malformed pairs as the specification allows.</summary>
    internal static IEnumerable<KeyValuePair<string, object>> ParseAttributes(string? text) =>
        (text ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(pair => pair.Split('=', 2, StringSplitOptions.TrimEntries))
            .Where(pair => pair.Length == 2 && pair[0].Length > 0)
            .Select(pair => new KeyValuePair<string, object>(pair[0], Uri.UnescapeDataString(pair[1])))
            .ToArray();
}
