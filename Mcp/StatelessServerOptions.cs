using Microsoft.Extensions.Options;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Server;

namespace McpAspire.Mcp;

/// <summary>
/// Builds <see cref="McpServerOptions"/> once for a stateless endpoint. The SDK's transport asks the options
/// factory for a new instance on every stateless request, which rebuilds the tool, prompt and resource
/// collections and every filter list, the same each time; that was a measured share of a node's CPU and
/// allocations per call (bench/README.md). Every per-request server then shares the one instance, as the SDK's
/// stateful sessions share theirs. In the other modes, or with a per-session
/// <see cref="HttpServerTransportOptions.ConfigureSessionOptions"/> that changes the instance it is given, each
/// request still gets its own.
/// </summary>
internal sealed class StatelessServerOptions(IOptionsFactory<McpServerOptions> inner, IOptions<HttpServerTransportOptions> transport) : IOptionsFactory<McpServerOptions>
{
    private McpServerOptions? _shared;

    public McpServerOptions Create(string name) =>
        name == Options.DefaultName && transport.Value is { SessionMode: HttpServerSessionMode.Stateless, ConfigureSessionOptions: null }
            ? LazyInitializer.EnsureInitialized(ref _shared, () => inner.Create(name))
            : inner.Create(name);
}
