using McpAspire.McpNode;
using Microsoft.Extensions.DependencyInjection;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>A class fixture that runs one node with the given settings for all the tests of a class.</summary>
public abstract class NodeFixture(Action<IServiceCollection>? services, params (string Key, string? Value)[] settings) : IAsyncLifetime
{
    protected NodeFixture(params (string Key, string? Value)[] settings)
        : this(null, settings)
    {
    }

    public ServiceHost<NodeOptions> Host { get; private set; } = null!;

    public ValueTask InitializeAsync()
    {
        Host = TestServices.StartNode(services, settings);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
