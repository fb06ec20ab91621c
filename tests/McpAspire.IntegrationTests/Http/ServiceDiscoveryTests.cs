using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace McpAspire.IntegrationTests.Http;

/// <summary>Clients from the service defaults reach services by name, through Aspire's <c>services:*</c> configuration.</summary>
public sealed class ServiceDiscoveryTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        settings["HttpResilience:Retry:Delay"] = "00:00:00.001";
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults();
        return builder.Build();
    }

    private static async Task<string> GetPathAsync(IHost host, string url)
    {
        using var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();
        using var response = await client.GetAsync(new Uri(url), Cancellation);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync(Cancellation);
    }

    private static Task<MisbehavingServer> EchoPathServerAsync(string name) =>
        MisbehavingServer.StartAsync((_, context) => context.Response.WriteAsync($"{name}{context.Request.Path}{context.Request.QueryString}"));

    [Theory]
    [InlineData("http://coordinator/api/nodes?x=1")]
    [InlineData("https+http://coordinator/api/nodes?x=1")]
    public async Task A_service_name_resolves_through_configuration(string url)
    {
        await using var server = await EchoPathServerAsync("a");
        using var host = BuildHost(new() { ["services:coordinator:http:0"] = server.Address.ToString() });

        Assert.Equal("a/api/nodes?x=1", await GetPathAsync(host, url));
    }

    [Fact]
    public async Task A_named_endpoint_resolves_from_its_own_key()
    {
        await using var server = await EchoPathServerAsync("admin");
        using var host = BuildHost(new() { ["services:coordinator:admin:0"] = $"127.0.0.1:{server.Address.Port}" });

        Assert.Equal("admin/x", await GetPathAsync(host, "http://_admin.coordinator/x"));
    }

    [Fact]
    public async Task Several_endpoints_take_turns()
    {
        await using var a = await EchoPathServerAsync("a");
        await using var b = await EchoPathServerAsync("b");
        using var host = BuildHost(new() { ["services:coordinator:http:0"] = a.Address.ToString(), ["services:coordinator:http:1"] = b.Address.ToString() });

        for (var i = 0; i < 4; i++)
        {
            await GetPathAsync(host, "http://coordinator/");
        }

        Assert.Equal(2, a.Requests);
        Assert.Equal(2, b.Requests);
    }

    [Fact]
    public async Task A_retry_resolves_again_and_can_reach_a_healthy_endpoint()
    {
        await using var broken = await MisbehavingServer.StartAsync((_, context) => MisbehavingServer.Status(context, HttpStatusCode.ServiceUnavailable));
        await using var healthy = await EchoPathServerAsync("healthy");
        using var host = BuildHost(new() { ["services:coordinator:http:0"] = broken.Address.ToString(), ["services:coordinator:http:1"] = healthy.Address.ToString() });

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("healthy/", await GetPathAsync(host, "http://coordinator/"));
        }
    }

    [Fact]
    public async Task An_ordinary_address_passes_through()
    {
        await using var server = await EchoPathServerAsync("direct");
        using var host = BuildHost([]);

        Assert.Equal("direct/y", await GetPathAsync(host, new Uri(server.Address, "/y").ToString()));
    }
}
