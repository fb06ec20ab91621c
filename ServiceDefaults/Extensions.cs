using McpAspire.ServiceDefaults.Health;
using McpAspire.ServiceDefaults.Hosting;
using McpAspire.ServiceDefaults.Http;
using McpAspire.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every McpAspire service gets, in one call each: <see cref="AddServiceDefaults{TBuilder}"/> while
/// building and <see cref="MapDefaultEndpoints"/> once the app is built. Read top to bottom, this is
/// the checklist of a production-ready service.
/// </summary>
public static class Extensions
{
    /// <summary>The liveness endpoint: answers while the process can serve at all.</summary>
    public const string AlivePath = "/alive";

    /// <summary>The readiness endpoint: every health check, with a JSON body.</summary>
    public const string HealthPath = "/health";

    /// <summary>The tag of checks that decide liveness.</summary>
    public const string LiveTag = "live";

    /// <summary>
    /// Makes a configuration error stop the process with one line naming the key (<see cref="StartupErrors"/>), and adds telemetry, trace-correlated logs, health checks, a configurable shutdown timeout, and for every <see cref="HttpClient"/> from the factory the standard
    /// resilience pipeline and service discovery.
    /// </summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        StartupErrors.Install();
        builder.ConfigureOpenTelemetry();
        builder.ConfigureLogging();
        builder.AddDefaultHealthChecks();
        builder.Services.AddOptions<ShutdownOptions>()
            .BindConfiguration(ShutdownOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<HostOptions>()
            .Configure<IOptions<ShutdownOptions>>((host, shutdown) => host.ShutdownTimeout = shutdown.Value.Timeout);
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            // Resilience first, so each retry resolves the service again and may reach another endpoint.
            // Bound here, not with the handler's Configure(section), which refuses a section that is not there.
            http.AddStandardResilienceHandler(options => builder.Configuration.GetSection(ResilienceOptionsKeys.SectionName).Bind(options));
            http.AddServiceDiscovery();
        });
        builder.Services.AddSingleton<IValidateOptions<HttpStandardResilienceOptions>, ResilienceOptionsKeys>();

        // The OTLP exporters retry on their own and bound each export; the pipeline would add its retries
        // and 30 s timeout on top and stall the export thread, as they take their clients from the factory.
        foreach (var exporterClient in (string[])["OtlpTraceExporter", "OtlpMetricExporter", "OtlpLogExporter"])
        {
#pragma warning disable EXTEXP0001 // Experimental in Microsoft.Extensions.Http.Resilience 10.11, and the documented way to opt a client out.
            builder.Services.AddHttpClient(exporterClient).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        }

        return builder;
    }

    /// <summary>
    /// OpenTelemetry for logs, metrics and traces: ASP.NET Core, HttpClient and the runtime from their instrumentation,
    /// the MCP spans and metrics from the project's own sources and the MCP SDK's, and Redis commands from the
    /// StackExchange.Redis integration. Probe requests and background Redis commands start no trace. Everything is
    /// exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
    /// </summary>
    /// <exception cref="InvalidConfigurationException">An <c>OTEL_EXPORTER_OTLP_*</c> value is invalid; the message names the key.</exception>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                // OTEL_SERVICE_NAME, as Aspire sets it, names the service; without it, the application does.
                if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"]))
                {
                    resource.AddService(builder.Environment.ApplicationName);
                }
            })
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter("McpAspire.*", McpSdkSource))
            .WithTracing(tracing => tracing
                .SetSampler(new ParentBasedSampler(OtlpConfiguration.StartsTraces(builder.Configuration) ? new BackgroundRedisSampler() : new AlwaysOffSampler()))
                .AddSource("McpAspire.*", McpSdkSource)
                .AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = context =>
                    !context.Request.Path.StartsWithSegments(HealthPath, StringComparison.OrdinalIgnoreCase)
                    && !context.Request.Path.StartsWithSegments(AlivePath, StringComparison.OrdinalIgnoreCase))
                .AddHttpClientInstrumentation());
        if (OtlpConfiguration.IsExportOn(builder.Configuration))
        {
            telemetry.UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>The MCP SDK's source and meter: the node's MCP server spans and <c>mcp.server.operation.duration</c>.</summary>
    public const string McpSdkSource = "Experimental.ModelContextProtocol";

    /// <summary>
    /// Gives every log record the trace and span ids of the activity it was written in (as a scope), and
    /// shows scopes in the JSON console format (<c>Logging:Console:FormatterName=json</c>) unless configured otherwise.
    /// </summary>
    public static TBuilder ConfigureLogging<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Logging.Configure(options =>
            options.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        if (builder.Configuration["Logging:Console:FormatterOptions:IncludeScopes"] is null)
        {
            builder.Services.Configure<JsonConsoleFormatterOptions>(options => options.IncludeScopes = true);
        }

        return builder;
    }

    /// <summary>Adds a self check tagged <c>live</c>; services add their own readiness checks.</summary>
    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> (every check, JSON body, 503 when unhealthy) and <c>/alive</c> (checks tagged
    /// <c>live</c>) in every environment. Neither is traced (see <see cref="ConfigureOpenTelemetry"/>).
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapHealthChecks(HealthPath, new HealthCheckOptions { ResponseWriter = HealthResponseWriter.WriteAsync });
        app.MapHealthChecks(AlivePath, new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(LiveTag),
            ResponseWriter = HealthResponseWriter.WriteAsync,
        });
        return app;
    }
}
