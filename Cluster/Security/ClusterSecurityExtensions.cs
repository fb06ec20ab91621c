using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace McpAspire.Cluster.Security;

/// <summary>Registers the cluster key of <see cref="ClusterOptions"/>.</summary>
public static class ClusterSecurityExtensions
{
    /// <summary>
    /// Binds the <c>Cluster</c> section, validated at start-up, and registers the <see cref="ClusterKeyRing"/> read
    /// from it and the <see cref="ClusterCredentials"/> made with it.
    /// </summary>
    public static IHostApplicationBuilder AddClusterKeys(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<ClusterOptions>()
            .BindConfiguration(ClusterOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddSingleton<ClusterKeyRing>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<ClusterCredentials>();
        builder.Services.TryAddSingleton<CallerAssertion>();
        return builder;
    }
}
