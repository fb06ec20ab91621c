using McpAspire.ServiceDefaults.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Resilience and service discovery for clients made by <see cref="IHttpClientFactory"/>.</summary>
public static class HttpClientBuilderExtensions
{
    /// <summary>
    /// Adds the standard resilience pipeline (see <see cref="HttpStandardResilienceOptions"/>) to the
    /// client, or to every client when called inside <c>ConfigureHttpClientDefaults</c>. Options bind from
    /// the <c>HttpResilience</c> section, then <paramref name="configure"/> runs; they are validated when
    /// the host starts.
    /// </summary>
    public static IHttpClientBuilder AddStandardResilienceHandler(this IHttpClientBuilder builder, Action<HttpStandardResilienceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<HttpResiliencePipelines>();
        if (!services.Any(descriptor => descriptor.ServiceType == typeof(IValidateOptions<HttpStandardResilienceOptions>)))
        {
            services.AddSingleton<IValidateOptions<HttpStandardResilienceOptions>, HttpStandardResilienceOptionsValidator>();
            // Every client binds the same section; the default name is validated at start-up, so a bad
            // value stops the host instead of the first request.
            services.AddSingleton<IConfigureOptions<HttpStandardResilienceOptions>>(provider =>
                new ConfigureNamedOptions<HttpStandardResilienceOptions, IConfiguration>(
                    name: null,
                    provider.GetRequiredService<IConfiguration>(),
                    static (options, configuration) => configuration.GetSection(HttpStandardResilienceOptions.SectionName).Bind(options)));
            services.AddOptions<HttpStandardResilienceOptions>().ValidateOnStart();
        }

        if (configure is not null)
        {
            if (builder.Name is null)
            {
                services.ConfigureAll(configure);
            }
            else
            {
                services.AddOptions<HttpStandardResilienceOptions>(builder.Name).Configure(configure).ValidateOnStart();
            }
        }

        // The handler needs the client's name (for its own pipeline), which only the handler builder knows.
        services.Configure<HttpClientFactoryOptions>(builder.Name, factory => factory.HttpMessageHandlerBuilderActions.Add(handlers =>
        {
            var name = handlers.Name ?? string.Empty;
            var pipeline = handlers.Services.GetRequiredService<HttpResiliencePipelines>().Get(name);
            handlers.AdditionalHandlers.Add(new ResilienceHandler(pipeline, name));
        }));
        return builder;
    }

    /// <summary>
    /// Removes the resilience handlers added so far, including those from <c>ConfigureHttpClientDefaults</c>.
    /// Use it for a client that must not retry on its own, such as one that forwards non-idempotent calls.
    /// </summary>
    public static IHttpClientBuilder RemoveAllResilienceHandlers(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureAdditionalHttpMessageHandlers(static (handlers, _) =>
        {
            for (var i = handlers.Count - 1; i >= 0; i--)
            {
                if (handlers[i] is ResilienceHandler)
                {
                    handlers.RemoveAt(i);
                }
            }
        });
    }

    /// <summary>
    /// Resolves service names in request addresses (<c>http://coordinator</c>, <c>https+http://coordinator</c>)
    /// through configuration in Aspire's <c>services:{name}:{endpoint}:{index}</c> format. See
    /// <see cref="ServiceEndpointResolver"/>.
    /// </summary>
    public static IHttpClientBuilder AddServiceDiscovery(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<ServiceEndpointResolver>();
        return builder.AddHttpMessageHandler(services => new ServiceDiscoveryHandler(services.GetRequiredService<ServiceEndpointResolver>()));
    }
}
