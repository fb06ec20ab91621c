using McpAspire.ServiceDefaults.Hosting;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Exporter;

namespace McpAspire.ServiceDefaults.Telemetry;

/// <summary>
/// The <c>OTEL_EXPORTER_OTLP_*</c> settings, read from configuration (environment variables,
/// appsettings, or test settings alike) rather than from the environment only, as the exporter
/// would on its own.
/// </summary>
internal sealed record OtlpSettings(Uri Endpoint, OtlpExportProtocol Protocol, string? Headers)
{
    public const string EndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ProtocolKey = "OTEL_EXPORTER_OTLP_PROTOCOL";
    public const string HeadersKey = "OTEL_EXPORTER_OTLP_HEADERS";

    /// <summary>The settings, or <see langword="null"/> when no endpoint is configured (export is off).</summary>
    /// <exception cref="InvalidConfigurationException">A value is invalid; the message names the key.</exception>
    public static OtlpSettings? FromConfiguration(IConfiguration configuration)
    {
        var endpoint = configuration[EndpointKey];
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return null;
        }

        if (!Uri.TryCreate(endpoint.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidConfigurationException($"{EndpointKey} '{endpoint}' must be an absolute http or https URL.");
        }

        var protocol = (configuration[ProtocolKey]?.Trim().ToLowerInvariant()) switch
        {
            null or "" or "grpc" => OtlpExportProtocol.Grpc,
            "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
            var other => throw new InvalidConfigurationException($"{ProtocolKey} '{other}' is not supported; use grpc or http/protobuf."),
        };
        var headers = configuration[HeadersKey];
        return new OtlpSettings(uri, protocol, string.IsNullOrWhiteSpace(headers) ? null : headers);
    }

    /// <summary>Points an exporter at the endpoint for one signal (<c>traces</c>, <c>metrics</c> or <c>logs</c>).</summary>
    public void Apply(OtlpExporterOptions options, string signal)
    {
        options.Protocol = Protocol;
        // Set in code, an http/protobuf endpoint is used as given, so the signal's path is added here.
        options.Endpoint = Protocol == OtlpExportProtocol.HttpProtobuf
            ? new Uri($"{Endpoint.AbsoluteUri.TrimEnd('/')}/v1/{signal}")
            : Endpoint;
        if (Headers is not null)
        {
            options.Headers = Headers;
        }
    }
}
