using McpAspire.ServiceDefaults.Health;
using McpAspire.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

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
    /// Adds telemetry, health checks, and for every <see cref="HttpClient"/> from the factory the standard
    /// resilience pipeline and service discovery.
    /// </summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            // Resilience first, so each retry resolves the service again and may reach another endpoint.
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });
        return builder;
    }

    /// <summary>
    /// Exports traces, metrics and logs over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, from
    /// .NET's built-in sources for ASP.NET Core, HttpClient and the runtime plus the project's own.
    /// </summary>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        OpenTelemetrySetup.Configure(builder);
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
    /// <c>live</c>) in every environment. Neither is traced.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Use(UntracedPaths.Middleware(AlivePath, HealthPath));
        app.MapHealthChecks(HealthPath, new HealthCheckOptions { ResponseWriter = HealthResponseWriter.WriteAsync });
        app.MapHealthChecks(AlivePath, new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(LiveTag),
            ResponseWriter = HealthResponseWriter.WriteAsync,
        });
        return app;
    }
}
