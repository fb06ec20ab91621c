using System.Globalization;

namespace McpAspire.ServiceDefaults.Redis;

/// <summary>
/// Where and how to reach a Redis-protocol server. Parsed from <c>ConnectionStrings:redis</c>, which
/// may be StackExchange.Redis style (<c>host:port,password=...,ssl=true</c>) or a
/// <c>redis://</c> / <c>rediss://</c> URI.
/// </summary>
public sealed record RedisConnectionOptions
{
    /// <summary>The default Redis port.</summary>
    public const int DefaultPort = 6379;

    /// <summary>Host name or address of the server.</summary>
    public required string Host { get; init; }

    /// <summary>TCP port of the server.</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>ACL user name; <see langword="null"/> authenticates as the default user.</summary>
    public string? User { get; init; }

    /// <summary>Password for <c>AUTH</c>; <see langword="null"/> skips authentication.</summary>
    public string? Password { get; init; }

    /// <summary>Database selected after connecting.</summary>
    public int Database { get; init; }

    /// <summary>Whether to wrap the connection in TLS.</summary>
    public bool UseTls { get; init; }

    /// <summary>
    /// Checks the server's TLS certificate instead of the system's trust store, for a server with a
    /// private CA or a pinned certificate. Set it in code (<c>options with { CertificateValidation = ... }</c>);
    /// connection strings cannot carry it.
    /// </summary>
    public System.Net.Security.RemoteCertificateValidationCallback? CertificateValidation { get; init; }

    /// <summary>How long establishing a connection may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a single command may wait for its reply.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Parses a connection string in either supported form.</summary>
    /// <exception cref="FormatException">The string is empty or malformed; the message says which part.</exception>
    public static RedisConnectionOptions Parse(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new FormatException("The Redis connection string is empty.");
        }

        var trimmed = connectionString.Trim();
        return trimmed.StartsWith("redis://", StringComparison.OrdinalIgnoreCase)
            || trimmed.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase)
            ? ParseUri(trimmed)
            : ParseStackExchange(trimmed);
    }

    private static RedisConnectionOptions ParseUri(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new FormatException($"The Redis URI '{Redact(value)}' is not a valid absolute URI.");
        }

        string? user = null;
        string? password = null;
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                // redis://secret@host is the common shorthand for a password without a user.
                password = Uri.UnescapeDataString(uri.UserInfo);
            }
            else
            {
                var userPart = Uri.UnescapeDataString(uri.UserInfo[..colon]);
                user = userPart.Length == 0 ? null : userPart;
                password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }

        var database = 0;
        var path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0 && !int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out database))
        {
            throw new FormatException($"The Redis URI path '/{path}' must be a database number.");
        }

        return new RedisConnectionOptions
        {
            Host = uri.IdnHost.Trim('[', ']'),
            Port = uri.IsDefaultPort || uri.Port < 0 ? DefaultPort : uri.Port,
            User = user,
            Password = password,
            Database = database,
            UseTls = uri.Scheme.Equals("rediss", StringComparison.OrdinalIgnoreCase),
        };
    }

    private static RedisConnectionOptions ParseStackExchange(string value)
    {
        string? host = null;
        var port = DefaultPort;
        string? user = null;
        string? password = null;
        var database = 0;
        var useTls = false;
        var connectTimeout = TimeSpan.FromSeconds(5);
        var commandTimeout = TimeSpan.FromSeconds(5);

        foreach (var rawPart in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = rawPart.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                // Only the first endpoint is used: the project runs against a single primary.
                if (host is null)
                {
                    (host, port) = ParseEndpoint(rawPart);
                }

                continue;
            }

            var key = rawPart[..eq].Trim();
            var setting = rawPart[(eq + 1)..].Trim();
            switch (key.ToLowerInvariant())
            {
                case "password":
                    password = setting;
                    break;
                case "user":
                    user = setting;
                    break;
                case "ssl":
                    useTls = ParseBool(key, setting);
                    break;
                case "defaultdatabase":
                    database = ParseInt(key, setting, 0);
                    break;
                case "connecttimeout":
                    connectTimeout = TimeSpan.FromMilliseconds(ParseInt(key, setting, 1));
                    break;
                case "synctimeout":
                case "asynctimeout":
                    commandTimeout = TimeSpan.FromMilliseconds(ParseInt(key, setting, 1));
                    break;
                default:
                    // Other StackExchange.Redis settings (abortConnect, allowAdmin, name, ...) do not
                    // change how this client behaves, so they are accepted and ignored.
                    break;
            }
        }

        if (host is null)
        {
            throw new FormatException($"The Redis connection string '{Redact(value)}' names no host:port endpoint.");
        }

        return new RedisConnectionOptions
        {
            Host = host,
            Port = port,
            User = user,
            Password = password,
            Database = database,
            UseTls = useTls,
            ConnectTimeout = connectTimeout,
            CommandTimeout = commandTimeout,
        };
    }

    private static (string Host, int Port) ParseEndpoint(string endpoint)
    {
        if (endpoint.StartsWith('['))
        {
            var close = endpoint.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new FormatException($"The Redis endpoint '{endpoint}' has an unterminated IPv6 address.");
            }

            var v6Host = endpoint[1..close];
            var rest = endpoint[(close + 1)..];
            return (v6Host, rest.StartsWith(':') ? ParsePort(endpoint, rest[1..]) : DefaultPort);
        }

        var colon = endpoint.LastIndexOf(':');
        return colon < 0
            ? (endpoint, DefaultPort)
            : (endpoint[..colon], ParsePort(endpoint, endpoint[(colon + 1)..]));
    }

    private static int ParsePort(string endpoint, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
            ? port
            : throw new FormatException($"The Redis endpoint '{endpoint}' has an invalid port '{text}'.");

    private static int ParseInt(string key, string text, int minimum) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number >= minimum
            ? number
            : throw new FormatException($"The Redis setting '{key}' must be an integer of at least {minimum}, not '{text}'.");

    private static bool ParseBool(string key, string text) =>
        bool.TryParse(text, out var flag)
            ? flag
            : throw new FormatException($"The Redis setting '{key}' must be true or false, not '{text}'.");

    private static string Redact(string value)
    {
        var at = value.IndexOf('@', StringComparison.Ordinal);
        var scheme = value.IndexOf("://", StringComparison.Ordinal);
        if (at > 0 && scheme > 0 && at > scheme)
        {
            return string.Concat(value.AsSpan(0, scheme + 3), "***", value.AsSpan(at));
        }

        var password = value.IndexOf("password=", StringComparison.OrdinalIgnoreCase);
        if (password < 0)
        {
            return value;
        }

        var end = value.IndexOf(',', password);
        return string.Concat(value.AsSpan(0, password + 9), "***", end < 0 ? string.Empty : value[end..]);
    }

    /// <summary>The endpoint as <c>host:port</c>, for logs and errors (never includes secrets).</summary>
    public string EndpointDisplay => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>The endpoint and settings, with the password redacted, so the options can be logged safely.</summary>
    public override string ToString() =>
        $"{EndpointDisplay} (tls={UseTls}, database={Database}, user={User ?? "(default)"}, password={(Password is null ? "none" : "redacted")})";
}
