using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace McpAspire.ServiceDefaults.Health;

/// <summary>Writes a health report as JSON: the overall status and each check's status, description and duration.</summary>
internal static class HealthResponseWriter
{
    public static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteNumber("totalDurationMs", Math.Round(report.TotalDuration.TotalMilliseconds, 1));
        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", entry.Status.ToString());
            if (entry.Description is not null)
            {
                json.WriteString("description", entry.Description);
            }

            json.WriteNumber("durationMs", Math.Round(entry.Duration.TotalMilliseconds, 1));
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }
}
