using McpAspire.Mcp;
using Microsoft.Extensions.Options;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Server;

namespace McpAspire.UnitTests.Mcp;

public sealed class StatelessServerOptionsTests
{
    [Fact]
    public void A_stateless_endpoint_builds_the_server_options_once()
    {
        var counting = new CountingFactory();
        var options = new StatelessServerOptions(counting, Options.Create(new HttpServerTransportOptions { SessionMode = HttpServerSessionMode.Stateless }));

        var first = options.Create(Options.DefaultName);
        var second = options.Create(Options.DefaultName);

        Assert.Same(first, second);
        Assert.Equal(1, counting.Created);
    }

    [Theory]
    [InlineData(HttpServerSessionMode.Stateful, false)]
    [InlineData(HttpServerSessionMode.StatefulForInitializeClients, false)]
    [InlineData(HttpServerSessionMode.Stateless, true)]
    public void Sessions_or_a_per_session_hook_get_options_of_their_own(HttpServerSessionMode mode, bool withHook)
    {
        var counting = new CountingFactory();
        var transport = new HttpServerTransportOptions { SessionMode = mode };
        if (withHook)
        {
            transport.ConfigureSessionOptions = (_, _, _) => Task.CompletedTask;
        }

        var options = new StatelessServerOptions(counting, Options.Create(transport));

        Assert.NotSame(options.Create(Options.DefaultName), options.Create(Options.DefaultName));
        Assert.Equal(2, counting.Created);
    }

    private sealed class CountingFactory : IOptionsFactory<McpServerOptions>
    {
        public int Created { get; private set; }

        public McpServerOptions Create(string name)
        {
            Created++;
            return new McpServerOptions();
        }
    }
}
