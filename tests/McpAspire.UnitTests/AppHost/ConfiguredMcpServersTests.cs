using McpAspire.AppHost.Hosting;
using Microsoft.Extensions.Configuration;

namespace McpAspire.UnitTests.AppHost;

public sealed class ConfiguredMcpServersTests
{
    private static ConfiguredMcpServers Read(params string[] args) =>
        ConfiguredMcpServers.Read(new ConfigurationBuilder().AddCommandLine(args).Build());

    [Fact]
    public void No_section_is_no_servers() => Assert.Empty(Read().Servers);

    [Fact]
    public void Each_kind_of_server_is_read_with_its_defaults()
    {
        var servers = Read(
            "--McpServers:search:Url=https://search.example.com/mcp",
            "--McpServers:everything:Command=npx",
            "--McpServers:everything:Args:0=-y",
            "--McpServers:everything:Args:1=@modelcontextprotocol/server-everything",
            "--McpServers:everything:Args:2=streamableHttp",
            "--McpServers:everything:Prefix=everything_",
            "--McpServers:memory:Command=npx",
            "--McpServers:memory:Transport=stdio",
            "--McpServers:memory:Env:MEMORY_FILE_PATH=/tmp/memory.jsonl").Servers;

        Assert.Equal(["everything", "memory", "search"], servers.Select(server => server.Name));
        var everything = servers[0];
        Assert.Equal(["-y", "@modelcontextprotocol/server-everything", "streamableHttp"], everything.Args);
        Assert.Equal(("PORT", "/mcp", "everything_", false, (int?)null), (everything.PortVariable, everything.Path, everything.Prefix, everything.IsStdio, everything.Port));
        Assert.True(servers[1].IsStdio);
        Assert.Equal("/tmp/memory.jsonl", servers[1].Env["MEMORY_FILE_PATH"]);
        Assert.Equal(new Uri("https://search.example.com/mcp"), servers[2].McpUrl);
    }

    [Fact]
    public void Args_keep_their_numeric_order_past_nine()
    {
        var args = Enumerable.Range(0, 12).Select(i => $"--McpServers:many:Args:{i}=a{i}").Prepend("--McpServers:many:Command=x").ToArray();

        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"a{i}"), Read(args).Servers[0].Args);
    }

    [Theory]
    [InlineData("McpServers:has_underscore", "--McpServers:has_underscore:Command=x")]
    [InlineData("needs either Url", "--McpServers:neither:Prefix=x")]
    [InlineData("not both", "--McpServers:both:Command=x", "--McpServers:both:Url=http://a/mcp")]
    [InlineData("McpServers:bad:Url 'ftp://a/mcp'", "--McpServers:bad:Url=ftp://a/mcp")]
    [InlineData("McpServers:bad:Transport", "--McpServers:bad:Command=x", "--McpServers:bad:Transport=sse")]
    [InlineData("McpServers:bad:Port", "--McpServers:bad:Command=x", "--McpServers:bad:Port=70000")]
    public void A_bad_server_is_refused_naming_its_key(string message, params string[] args)
    {
        var error = Assert.Throws<ArgumentException>(() => Read(args));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
