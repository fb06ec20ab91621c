using McpAspire.ServiceDefaults.Http;
using Microsoft.Extensions.Configuration;

namespace McpAspire.UnitTests.Http;

public sealed class ServiceEndpointResolverTests
{
    private static ServiceEndpointResolver Resolver(Dictionary<string, string?> settings) =>
        new(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());

    [Fact]
    public void Https_plus_http_prefers_https()
    {
        var resolver = Resolver(new() { ["services:api:http:0"] = "http://10.0.0.1:80", ["services:api:https:0"] = "https://10.0.0.1:443" });

        Assert.Equal(new Uri("https://10.0.0.1/v1?q=2"), resolver.Resolve(new Uri("https+http://api/v1?q=2")));
    }

    [Fact]
    public void Https_plus_http_falls_back_to_http()
    {
        var resolver = Resolver(new() { ["services:api:http:0"] = "http://10.0.0.1:8080" });

        Assert.Equal(new Uri("http://10.0.0.1:8080/v1"), resolver.Resolve(new Uri("https+http://api/v1")));
    }

    [Fact]
    public void Plain_http_uses_only_http_endpoints()
    {
        var resolver = Resolver(new() { ["services:api:https:0"] = "https://10.0.0.1:443" });

        Assert.Equal(new Uri("http://api/v1"), resolver.Resolve(new Uri("http://api/v1")));
    }

    [Fact]
    public void Host_and_port_values_take_the_scheme_of_their_endpoint()
    {
        var resolver = Resolver(new() { ["services:api:https:0"] = "10.0.0.2:8443" });

        Assert.Equal(new Uri("https://10.0.0.2:8443/"), resolver.Resolve(new Uri("https://api/")));
    }

    [Fact]
    public void Blank_and_malformed_values_are_ignored()
    {
        var resolver = Resolver(new() { ["services:api:http:0"] = " ", ["services:api:http:1"] = "ftp://nope", ["services:api:http:2"] = "http://10.0.0.3:81" });

        Assert.Equal(new Uri("http://10.0.0.3:81/"), resolver.Resolve(new Uri("http://api/")));
    }
}
