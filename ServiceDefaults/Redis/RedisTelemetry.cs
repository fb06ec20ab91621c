using System.Diagnostics;
using System.Globalization;

namespace McpAspire.ServiceDefaults.Redis;

/// <summary>
/// A client span per Redis command, after OpenTelemetry's database conventions: named after the
/// command, with <c>db.system.name=redis</c>, <c>db.operation.name</c>, <c>db.namespace</c> (the
/// database index) and the server's address. Arguments are never recorded; they may hold secrets.
/// Only commands sent within a traced operation get a span: the heartbeats and registry reads that
/// run in the background every second would otherwise each be a trace of their own and bury the
/// tool calls in the dashboard.
/// </summary>
public static class RedisTelemetry
{
    /// <summary>The name of the <see cref="ActivitySource"/>.</summary>
    public const string SourceName = "McpAspire.Redis";

    internal static readonly ActivitySource Source = new(SourceName, typeof(RedisTelemetry).Assembly.GetName().Version?.ToString(3));

    internal static Activity? StartCommand(RedisArgument command, RedisConnectionOptions options)
    {
        if (Activity.Current is null || !Source.HasListeners())
        {
            return null;
        }

        var name = command.ToString().ToUpperInvariant();
        var activity = Source.StartActivity(name, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("db.system.name", "redis");
            activity.SetTag("db.operation.name", name);
            activity.SetTag("db.namespace", options.Database.ToString(CultureInfo.InvariantCulture));
            activity.SetTag("server.address", options.Host);
            activity.SetTag("server.port", options.Port);
        }

        return activity;
    }

    internal static void Fail(Activity? activity, Exception error)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("error.type", error.GetType().FullName);
        activity.SetStatus(ActivityStatusCode.Error, error.Message);
    }
}
