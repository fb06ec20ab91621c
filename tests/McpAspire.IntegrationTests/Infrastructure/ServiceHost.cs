using System.Net;
using McpAspire.McpCoordinator;
using McpAspire.McpNode;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>
/// Runs a service's real <c>Program</c> in-process on Kestrel, bound to a free port on 127.0.0.1, so
/// tests talk to it over real loopback sockets.
/// </summary>
public sealed class ServiceHost<TEntryPoint> : WebApplicationFactory<TEntryPoint>
    where TEntryPoint : class
{
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;

    public ServiceHost(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        _settings = settings;
        _services = services;
        UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
    }

    /// <summary>The base address Kestrel listens on (<c>http://127.0.0.1:port</c>).</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The service's MCP endpoint.</summary>
    public Uri McpUrl => new(BaseUrl, "/mcp");

    public ServiceHost<TEntryPoint> Start()
    {
        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        BaseUrl = new Uri(address);
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }
}

/// <summary>Starts nodes and coordinators the way the tests need them.</summary>
public static class TestServices
{
    public static ServiceHost<NodeOptions> StartNode(params (string Key, string? Value)[] settings) => StartNode(null, settings);

    /// <summary>A node with test services added, such as tools of the tests' own.</summary>
    public static ServiceHost<NodeOptions> StartNode(Action<IServiceCollection>? services, params (string Key, string? Value)[] settings) =>
        new ServiceHost<NodeOptions>(settings.ToDictionary(setting => setting.Key, setting => setting.Value), services).Start();

    /// <summary>Adds the <c>stubborn</c> tool and its gate to a node, and a count of the requests it is handling.</summary>
    public static void AddStubbornTool(IServiceCollection services)
    {
        services.AddSingleton<StubbornGate>();
        services.AddSingleton<ActiveRequests>();
        services.AddSingleton<IStartupFilter>(provider => provider.GetRequiredService<ActiveRequests>());
        services.AddMcpServer().WithTools<StubbornTools>();
    }

    public static ServiceHost<CoordinatorOptions> StartCoordinator(string redis, params (string Key, string? Value)[] settings) => StartCoordinator(redis, null, settings);

    /// <summary>A coordinator with test services added, such as an authentication scheme.</summary>
    public static ServiceHost<CoordinatorOptions> StartCoordinator(string redis, Action<IServiceCollection>? services, params (string Key, string? Value)[] settings) =>
        new ServiceHost<CoordinatorOptions>(settings.Append((Key: "ConnectionStrings:redis", Value: (string?)redis)).ToDictionary(setting => setting.Key, setting => setting.Value), services).Start();
}
