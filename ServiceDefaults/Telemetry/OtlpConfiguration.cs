using McpAspire.ServiceDefaults.Hosting;
using Microsoft.Extensions.Configuration;

namespace McpAspire.ServiceDefaults.Telemetry;

/// <summary>
/// Checks the <c>OTEL_EXPORTER_OTLP_*</c> settings that OpenTelemetry's exporter reads. The exporter ignores a value it
/// cannot use, so a typo would silently export nothing; here it stops the service with a message naming the key.
/// </summary>
public static class OtlpConfiguration
{
    /// <summary>The endpoint the exporter sends to; export is on when it is set.</summary>
    public const string EndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The exporter's protocol: <c>grpc</c> (its default) or <c>http/protobuf</c>.</summary>
    public const string ProtocolKey = "OTEL_EXPORTER_OTLP_PROTOCOL";

    /// <summary>
    /// Whether the service starts traces of its own: by default only when they are exported over OTLP. Without an
    /// exporter, a root span costs every request its recording and goes nowhere; spans in a trace the caller sampled
    /// are recorded all the same. Set it to true when traces leave by another exporter (Azure Monitor, say).
    /// </summary>
    public const string StartTracesKey = "Telemetry:StartTraces";

    /// <summary>Whether the service starts traces of its own (<see cref="StartTracesKey"/>, else <see cref="IsExportOn"/>).</summary>
    /// <exception cref="InvalidConfigurationException">A value is invalid; the message names the key.</exception>
    public static bool StartsTraces(IConfiguration configuration) =>
        ConfigurationSwitch.Read(configuration, StartTracesKey) ?? IsExportOn(configuration);

    /// <summary>Whether export is on (an endpoint is set), once the settings are checked.</summary>
    /// <exception cref="InvalidConfigurationException">A value is invalid; the message names the key.</exception>
    public static bool IsExportOn(IConfiguration configuration)
    {
        var endpoint = configuration[EndpointKey];
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return false;
        }

        if (!Uri.TryCreate(endpoint.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidConfigurationException($"{EndpointKey} '{endpoint}' must be an absolute http or https URL.");
        }

        return configuration[ProtocolKey]?.Trim().ToLowerInvariant() switch
        {
            null or "" or "grpc" or "http/protobuf" => true,
            var other => throw new InvalidConfigurationException($"{ProtocolKey} '{other}' is not supported; use grpc or http/protobuf."),
        };
    }
}
