using McpAspire.AppHost.Hosting;

namespace McpAspire.UnitTests.AppHost;

public sealed class ClusterOptionsTests
{
    [Fact]
    public void Defaults_are_three_nodes_port_5080_and_garnet()
    {
        var options = ClusterOptions.Parse([]);

        Assert.Equal(3, options.Nodes);
        Assert.Equal(5080, options.CoordinatorPort);
        Assert.Equal("garnet", options.Store);
    }

    [Fact]
    public void Reads_each_option_in_both_spellings()
    {
        var options = ClusterOptions.Parse(["--nodes", "5", "--coordinator-port=0", "--store", "localhost:6379,password=x"]);

        Assert.Equal(5, options.Nodes);
        Assert.Equal(0, options.CoordinatorPort);
        Assert.Equal("localhost:6379,password=x", options.Store);
    }

    [Theory]
    [InlineData(new[] { "--nodes", "0" }, "--nodes must be a whole number from 1 to 32")]
    [InlineData(new[] { "--nodes", "many" }, "--nodes must be a whole number")]
    [InlineData(new[] { "--coordinator-port", "70000" }, "--coordinator-port must be a whole number from 0 to 65535")]
    [InlineData(new[] { "--nodes" }, "--nodes needs a value")]
    [InlineData(new[] { "--store=" }, "--store needs a value")]
    [InlineData(new[] { "--verbose" }, "Unknown option '--verbose'")]
    public void Rejects_bad_arguments_with_a_message_naming_the_option(string[] args, string fragment)
    {
        var error = Assert.Throws<ArgumentException>(() => ClusterOptions.Parse(args));

        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
    }
}
