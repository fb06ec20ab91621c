using McpAspire.McpNode;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>A class fixture that runs one node with the given settings for all the tests of a class.</summary>
public abstract class NodeFixture(params (string Key, string? Value)[] settings) : IAsyncLifetime
{
    public ServiceHost<NodeOptions> Host { get; private set; } = null!;

    public ValueTask InitializeAsync()
    {
        Host = TestServices.StartNode(settings);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
