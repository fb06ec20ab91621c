using System.Net;
using McpAspire.ServiceDefaults.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using ModelContextProtocol.AspNetCore.Authentication;
using ModelContextProtocol.Authentication;

namespace McpAspire.McpCoordinator.Security;

/// <summary>
/// Who may reach the coordinator, composed the ASP.NET Core way: JWT bearer tokens configured under
/// <c>Authentication:Schemes:Bearer</c>, API keys under <c>Authentication:Schemes:ApiKey</c>, the MCP SDK's scheme for
/// the RFC 9728 metadata and the 401 challenge, and the policies the endpoints require.
/// </summary>
public static class CoordinatorSecurity
{
    /// <summary>The default scheme: picks the API key scheme or JWT bearer by what the request carries.</summary>
    public const string CallerScheme = "McpAspire-Caller";

    /// <summary>The policy of <c>/mcp</c>: an authenticated caller.</summary>
    public const string CallerPolicy = "mcpaspire-caller";

    /// <summary>The policy of <c>/api/*</c>: an admin (see <see cref="AccessOptions.AdminScopes"/>).</summary>
    public const string AdminPolicy = "mcpaspire-admin";

    /// <summary>The section of the RFC 9728 document's fields (<see cref="ProtectedResourceMetadata"/>).</summary>
    public const string ResourceMetadataSection = "Coordinator:ResourceMetadata";

    private const string BearerSection = "Authentication:Schemes:" + JwtBearerDefaults.AuthenticationScheme;

    /// <summary>
    /// Adds authentication and authorization when a scheme is configured, and refuses to start a coordinator that
    /// would serve anonymous callers beyond loopback unless <c>Coordinator:AllowAnonymous</c> says so.
    /// </summary>
    /// <exception cref="InvalidConfigurationException">A scheme is configured wrongly, or the coordinator would be open to the network.</exception>
    public static WebApplicationBuilder AddCoordinatorSecurity(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        var bearer = configuration.GetSection(BearerSection);
        var bearerOn = bearer.GetChildren().Any();
        var apiKeys = Bind<ApiKeyOptions>(configuration, ApiKeyOptions.SectionName);
        var apiKeysOn = apiKeys.Keys.Count > 0;
        var enabled = bearerOn || apiKeysOn;
        var problems = new List<string>();
        if (bearerOn)
        {
            problems.AddRange(BearerProblems(bearer));
        }

        problems.AddRange(apiKeys.Problems(configuration.GetSection(ApiKeyOptions.SectionName)));
        var allowAnonymous = Bind<CoordinatorOptions>(configuration, CoordinatorOptions.SectionName).AllowAnonymous;
        if (!enabled && !allowAnonymous && ListenAddresses.FirstBeyondLoopback(configuration) is { } open)
        {
            problems.Add(AnonymousBeyondLoopback(open));
        }

        if (problems.Count > 0)
        {
            throw new InvalidConfigurationException(string.Join(" ", problems));
        }

        var services = builder.Services;
        services.AddOptions<AccessOptions>()
            .BindConfiguration(AccessOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton(provider => new ToolAccess(provider.GetRequiredService<IOptions<AccessOptions>>(), enabled));
        CallerRateLimits.Add(services);
        services.AddHostedService<SecurityStartupCheck>();
        if (!enabled)
        {
            return builder;
        }

        var authentication = services.AddAuthentication(options =>
        {
            options.DefaultScheme = CallerScheme;
            options.DefaultChallengeScheme = McpAuthenticationDefaults.AuthenticationScheme;
        });
        authentication.AddPolicyScheme(CallerScheme, "MCP caller", options => options.ForwardDefaultSelector = context =>
            !bearerOn || (apiKeysOn && ApiKeyHandler.PresentedKey(context.Request) is not null) ? ApiKeyHandler.SchemeName : JwtBearerDefaults.AuthenticationScheme);
        if (bearerOn)
        {
            authentication.AddJwtBearer();
        }

        if (apiKeysOn)
        {
            services.AddSingleton(Options.Create(apiKeys));
            services.AddSingleton<ApiKeyTable>();
            authentication.AddScheme<AuthenticationSchemeOptions, ApiKeyHandler>(ApiKeyHandler.SchemeName, null);
        }

        authentication.AddScheme<McpAuthenticationOptions, CallerChallengeHandler>(McpAuthenticationDefaults.AuthenticationScheme, McpAuthenticationDefaults.DisplayName, null);
        var metadata = Bind<ProtectedResourceMetadata>(configuration, ResourceMetadataSection);
        services.AddOptions<McpAuthenticationOptions>(McpAuthenticationDefaults.AuthenticationScheme).Configure<ToolAccess>((options, access) =>
        {
            options.ForwardAuthenticate = CallerScheme;
            options.ResourceMetadata = ResourceMetadata(metadata, bearer["Authority"], access);
        });
        services.AddAuthorizationBuilder()
            .AddPolicy(CallerPolicy, policy => policy.RequireAuthenticatedUser())
            .AddPolicy(AdminPolicy, policy => policy.RequireAuthenticatedUser().AddRequirements(new AdminRequirement()));
        return builder;
    }

    /// <summary>Requires <paramref name="policy"/> on these endpoints when callers are authenticated; otherwise changes nothing.</summary>
    public static TBuilder RequireCaller<TBuilder>(this TBuilder builder, IServiceProvider services, string policy)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.GetRequiredService<ToolAccess>().IsEnabled ? builder.RequireAuthorization(policy) : builder;
    }

    /// <summary>Puts <paramref name="policy"/> on these endpoints when limits apply; otherwise changes nothing.</summary>
    public static TBuilder RequireCallerLimit<TBuilder>(this TBuilder builder, IServiceProvider services, string policy)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.GetRequiredService<CallerRateLimits>().IsEnabled ? builder.RequireRateLimiting(policy) : builder;
    }

    /// <summary>The message that refuses an anonymous coordinator open to the network.</summary>
    internal static string AnonymousBeyondLoopback(string address) =>
        $"The coordinator listens on {address}, beyond loopback, and no authentication is configured, so anyone who can reach it could call every tool. " +
        $"Configure {BearerSection} (e.g. Authority and ValidAudiences) or {ApiKeyOptions.SectionName}:Keys, " +
        "or set Coordinator:AllowAnonymous=true to serve anonymous callers on purpose.";

    private static T Bind<T>(ConfigurationManager configuration, string section)
        where T : new()
    {
        try
        {
            return configuration.GetSection(section).Get<T>() ?? new T();
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidConfigurationException(ex.Message, ex);
        }
    }

    private static ProtectedResourceMetadata ResourceMetadata(ProtectedResourceMetadata configured, string? authority, ToolAccess access)
    {
        var metadata = configured.Clone();
        if (metadata.AuthorizationServers.Count == 0 && authority is not null)
        {
            metadata.AuthorizationServers.Add(authority);
        }

        if (metadata.ScopesSupported is not { Count: > 0 })
        {
            metadata.ScopesSupported = [.. access.Scopes];
        }

        if (metadata.BearerMethodsSupported is not { Count: > 0 })
        {
            metadata.BearerMethodsSupported = ["header"];
        }

        metadata.ResourceName ??= "McpAspire coordinator";
        return metadata;
    }

    /// <summary>What would make every token fail, or the JWT handler throw on the first request, named by key.</summary>
    private static IEnumerable<string> BearerProblems(IConfigurationSection bearer)
    {
        if (string.Equals(bearer["ValidateAudience"], "false", StringComparison.OrdinalIgnoreCase))
        {
            yield return $"{BearerSection}:ValidateAudience is false, but MCP requires tokens issued for this resource: list the coordinator's URL in ValidAudiences instead.";
        }
        else if (!Values(bearer, "ValidAudience", "ValidAudiences").Any())
        {
            yield return $"{BearerSection}:ValidAudiences is not set: list the resource URI clients get tokens for (the coordinator's /mcp URL, e.g. https://mcp.contoso.com/mcp), so only tokens issued for it are accepted.";
        }

        var keys = bearer.GetSection("SigningKeys").GetChildren().ToList();
        if (bearer["Authority"] is null && bearer["MetadataAddress"] is null && keys.Count == 0)
        {
            yield return $"{BearerSection} has neither Authority (an OpenID Connect issuer, e.g. https://login.microsoftonline.com/{{tenant}}/v2.0) nor SigningKeys (as 'dotnet user-jwts' writes them), so no token could be checked.";
        }

        foreach (var name in (string[])["Authority", "MetadataAddress"])
        {
            if (bearer[name] is not { } address)
            {
                continue;
            }

            if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
            {
                yield return $"{BearerSection}:{name} must be an absolute http(s) URL.";
            }
            else if (uri.Scheme == "http" && !string.Equals(bearer["RequireHttpsMetadata"], "false", StringComparison.OrdinalIgnoreCase))
            {
                yield return $"{BearerSection}:{name} is plain HTTP: use HTTPS, or set RequireHttpsMetadata=false for a local identity provider.";
            }
        }

        var issuers = Values(bearer, "ValidIssuer", "ValidIssuers").ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < keys.Count; i++)
        {
            var where = $"{BearerSection}:SigningKeys:{keys[i].Key}";
            var value = keys[i]["Value"];
            var bytes = new byte[((value?.Length ?? 0) * 3 / 4) + 3];
            if (value is null || !Convert.TryFromBase64String(value, bytes, out var length) || length < 32)
            {
                yield return $"{where}:Value must be a base64 key of at least 32 bytes.";
            }

            if (keys[i]["Issuer"] is not { } issuer || !issuers.Contains(issuer))
            {
                yield return $"{where}:Issuer must be ValidIssuer or one of ValidIssuers, or the key is never used.";
            }
        }
    }

    private static IEnumerable<string> Values(IConfigurationSection section, string single, string list) =>
        section.GetSection(list).GetChildren().Select(child => child.Value).Append(section[single]).OfType<string>().Where(value => value.Trim().Length > 0);
}

/// <summary>Satisfied by a caller that <see cref="ToolAccess.IsAdmin"/> says is an admin.</summary>
public sealed class AdminRequirement : AuthorizationHandler<AdminRequirement>, IAuthorizationRequirement
{
    /// <inheritdoc/>
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AdminRequirement requirement)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Resource is HttpContext http && http.RequestServices.GetRequiredService<ToolAccess>().IsAdmin(Caller.Of(http)))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// Which addresses the configuration makes Kestrel listen on (<c>urls</c>, <c>http_ports</c>, <c>https_ports</c> and
/// <c>Kestrel:Endpoints</c>), and whether they stay on loopback. With none, Kestrel listens on localhost.
/// </summary>
internal static class ListenAddresses
{
    public static string? FirstBeyondLoopback(IConfiguration configuration)
    {
        var urls = (configuration["urls"] ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Concat(configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(endpoint => endpoint["Url"]).OfType<string>());
        if (urls.FirstOrDefault(url => !IsLoopback(url)) is { } url)
        {
            return url;
        }

        foreach (var key in (string[])["http_ports", "https_ports"])
        {
            if (configuration[key] is { Length: > 0 } ports)
            {
                return $"every interface, port {ports} ({key})";
            }
        }

        return null;
    }

    /// <summary>Whether a listen URL such as <c>http://127.0.0.1:5080</c> binds loopback only; a wildcard (<c>*</c>, <c>+</c>, <c>0.0.0.0</c>) or a name other than localhost does not.</summary>
    public static bool IsLoopback(string url)
    {
        var start = url.IndexOf("://", StringComparison.Ordinal);
        var rest = start < 0 ? url : url[(start + 3)..];
        var host = rest.StartsWith('[') ? rest[1..Math.Max(1, rest.IndexOf(']', StringComparison.Ordinal))] : rest.Split(':', '/')[0];
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
    }
}
