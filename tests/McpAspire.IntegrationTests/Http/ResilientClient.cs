using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;

namespace McpAspire.IntegrationTests.Http;

/// <summary>An <see cref="HttpClient"/> from a real <see cref="IHttpClientFactory"/> with the standard resilience handler.</summary>
public sealed class ResilientClient : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private ResilientClient(ServiceProvider services, HttpClient client)
    {
        _services = services;
        Client = client;
    }

    public HttpClient Client { get; }

    /// <summary>Builds a client whose options start from the defaults, then <paramref name="configure"/>.</summary>
    public static ResilientClient Create(Uri baseAddress, Action<HttpStandardResilienceOptions> configure, IDictionary<string, string?>? settings = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build());
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddHttpClient("test", client => client.BaseAddress = baseAddress).AddStandardResilienceHandler(configure);
        var provider = services.BuildServiceProvider();
        return new ResilientClient(provider, provider.GetRequiredService<IHttpClientFactory>().CreateClient("test"));
    }

    /// <summary>Short delays, so tests that retry do not wait for the 2 s default backoff.</summary>
    public static void FastRetries(HttpStandardResilienceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        options.Retry.UseJitter = false;
        options.Retry.BackoffType = Polly.DelayBackoffType.Constant;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _services.DisposeAsync();
    }
}
