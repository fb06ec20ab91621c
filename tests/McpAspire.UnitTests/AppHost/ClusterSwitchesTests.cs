using McpAspire.AppHost.Hosting;
using Microsoft.Extensions.Configuration;

namespace McpAspire.UnitTests.AppHost;

public sealed class ClusterSwitchesTests
{
    private static ClusterSwitches Read(params string[] args) =>
        ClusterSwitches.Read(new ConfigurationBuilder().AddCommandLine(args).Build());

    [Fact]
    public void Defaults_are_three_nodes_port_5080_and_garnet()
    {
        var switches = Read();

        Assert.Equal(3, switches.Nodes);
        Assert.Equal(5080, switches.CoordinatorPort);
        Assert.Equal("garnet", switches.Store);
    }

    [Fact]
    public void Reads_each_switch_in_both_spellings()
    {
        var switches = Read("--nodes", "5", "--coordinator-port=0", "--store", "localhost:6379,password=x");

        Assert.Equal(5, switches.Nodes);
        Assert.Equal(0, switches.CoordinatorPort);
        Assert.Equal("localhost:6379,password=x", switches.Store);
    }

    [Fact]
    public void Reads_switches_set_as_configuration_too()
    {
        var switches = ClusterSwitches.Read(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["nodes"] = "2", ["store"] = " redis " })
            .Build());

        Assert.Equal(2, switches.Nodes);
        Assert.Equal("redis", switches.Store);
    }

    [Theory]
    [InlineData(new[] { "--nodes", "0" }, "--nodes must be a whole number from 1 to 32, not '0'")]
    [InlineData(new[] { "--nodes", "33" }, "--nodes must be a whole number from 1 to 32")]
    [InlineData(new[] { "--nodes", "many" }, "--nodes must be a whole number")]
    [InlineData(new[] { "--nodes", "-1" }, "--nodes must be a whole number")]
    [InlineData(new[] { "--nodes", " 3" }, "--nodes must be a whole number")]
    [InlineData(new[] { "--coordinator-port", "70000" }, "--coordinator-port must be a whole number from 0 to 65535")]
    [InlineData(new[] { "--coordinator-port", "" }, "--coordinator-port must be a whole number")]
    [InlineData(new[] { "--store=" }, "--store needs a value")]
    [InlineData(new[] { "--store", "   " }, "--store needs a value")]
    public void Rejects_bad_values_with_a_message_naming_the_switch_and_the_usage(string[] args, string fragment)
    {
        var error = Assert.Throws<ArgumentException>(() => Read(args));

        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
        Assert.Contains(ClusterSwitches.Usage, error.Message, StringComparison.Ordinal);
    }
}
