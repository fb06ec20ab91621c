using McpAspire.ServiceDefaults.Hosting;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace McpAspire.McpCoordinator.Security;

/// <summary>
/// Checks at start-up what configuration alone cannot show. Before the server starts, the JWT handler's options are
/// built, so a value it cannot read stops the start instead of failing the first request. Once the server listens, an
/// anonymous coordinator whose addresses reach beyond loopback (set in code rather than configuration) stops again.
/// </summary>
public sealed class SecurityStartupCheck(
    IServiceProvider services,
    ToolAccess access,
    IServer server,
    IOptions<CoordinatorOptions> options) : IHostedLifecycleService
{
    /// <inheritdoc/>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<IOptionsMonitor<JwtBearerOptions>>() is { } bearer && access.IsEnabled)
        {
            try
            {
                _ = bearer.Get(JwtBearerDefaults.AuthenticationScheme);
            }
            catch (Exception ex) when (ex is FormatException or InvalidOperationException or OverflowException)
            {
                throw new InvalidConfigurationException($"Authentication:Schemes:Bearer cannot be read: {ex.Message}", ex);
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (!access.IsEnabled && !options.Value.AllowAnonymous
            && server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault(address => !ListenAddresses.IsLoopback(address)) is { } open)
        {
            throw new InvalidConfigurationException(CoordinatorSecurity.AnonymousBeyondLoopback(open));
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
