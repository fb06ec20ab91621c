using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace McpAspire.ServiceDefaults.Telemetry;

/// <summary>Keeps probe traffic (health checks every few seconds) out of the traces.</summary>
internal static class UntracedPaths
{
    public static Func<HttpContext, RequestDelegate, Task> Middleware(params string[] paths) => (context, next) =>
    {
        if (Activity.Current is { } activity && paths.Contains(context.Request.Path.Value, StringComparer.OrdinalIgnoreCase))
        {
            // An unrecorded activity is dropped by every exporter, and its children inherit the flag.
            activity.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            activity.IsAllDataRequested = false;
        }

        return next(context);
    };
}
