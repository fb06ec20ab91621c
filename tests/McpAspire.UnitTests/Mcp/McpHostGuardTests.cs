using McpAspire.Mcp;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace McpAspire.UnitTests.Mcp;

public sealed class McpHostGuardTests
{
    [Theory]
    [InlineData("127.0.0.1:5000", null, true)]
    [InlineData("localhost", null, true)]
    [InlineData("[::1]:80", null, true)]
    [InlineData("LOCALHOST:1", "http://localhost:3000", true)]
    [InlineData("127.0.0.1:5000", "http://[::1]:8080", true)]
    [InlineData("evil.example.com", null, false)]
    [InlineData("127.0.0.1.evil.example.com", null, false)]
    [InlineData("127.0.0.1:5000", "http://evil.example.com", false)]
    [InlineData("127.0.0.1:5000", "null", false)]
    [InlineData("127.0.0.1:5000", "file://localhost", false)]
    [InlineData("127.0.0.1:5000", "not a url", false)]
    public void On_loopback_only_loopback_hosts_and_origins_pass(string host, string? origin, bool allowed) =>
        Assert.Equal(allowed, Guard(["http://127.0.0.1:5000", "http://[::1]:5000"]).Check(Request(host, origin)) is null);

    [Theory]
    [InlineData("mcp.example.com", null, true)]
    [InlineData("anything.example.org:8443", null, true)]
    [InlineData("mcp.example.com", "https://mcp.example.com", true)]
    [InlineData("mcp.example.com", "https://evil.example.com", false)]
    [InlineData("mcp.example.com", "http://localhost:3000", false)]
    public void Elsewhere_any_host_passes_and_an_origin_must_be_the_requests_own_host(string host, string? origin, bool allowed) =>
        Assert.Equal(allowed, Guard(["http://0.0.0.0:5000"]).Check(Request(host, origin)) is null);

    [Theory]
    [InlineData("mcp.example.com", "https://app.example.com", true)]
    [InlineData("MCP.EXAMPLE.COM", "https://app.example.com/", true)]
    [InlineData("localhost", null, false)]
    [InlineData("mcp.example.com", "http://localhost", false)]
    public void Configured_lists_replace_the_defaults(string host, string? origin, bool allowed)
    {
        var options = new McpEndpointOptions();
        options.AllowedHosts.Add("mcp.example.com");
        options.AllowedOrigins.Add("https://app.example.com");

        Assert.Equal(allowed, Guard(["http://127.0.0.1:5000"], options).Check(Request(host, origin)) is null);
    }

    [Fact]
    public void A_star_allows_any_host_and_origin()
    {
        var options = new McpEndpointOptions();
        options.AllowedHosts.Add("*");
        options.AllowedOrigins.Add("*");

        Assert.Null(Guard(["http://127.0.0.1:5000"], options).Check(Request("evil.example.com", "http://evil.example.com")));
    }

    [Fact]
    public void The_refusal_names_the_setting_and_cuts_a_long_value()
    {
        var reason = Guard(["http://127.0.0.1:5000"]).Check(Request(new string('h', 500) + ".example.com", null));

        Assert.Contains("Mcp:AllowedHosts", reason, StringComparison.Ordinal);
        Assert.True(reason!.Length < 300);
    }

    private static McpHostGuard Guard(string[] addresses, McpEndpointOptions? options = null)
    {
        var server = new FakeServer();
        var feature = new ServerAddressesFeature();
        foreach (var address in addresses)
        {
            feature.Addresses.Add(address);
        }

        server.Features.Set<IServerAddressesFeature>(feature);
        return new McpHostGuard(Options.Create(options ?? new McpEndpointOptions()), server);
    }

    private static HttpRequest Request(string host, string? origin)
    {
        var context = new DefaultHttpContext();
        context.Request.Host = new HostString(host);
        if (origin is not null)
        {
            context.Request.Headers.Origin = origin;
        }

        return context.Request;
    }

    private sealed class FakeServer : IServer
    {
        public IFeatureCollection Features { get; } = new FeatureCollection();

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
            where TContext : notnull => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose()
        {
        }
    }
}
