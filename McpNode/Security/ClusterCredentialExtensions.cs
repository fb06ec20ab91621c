using McpAspire.Cluster.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace McpAspire.McpNode.Security;

/// <summary>Makes the node's MCP endpoint refuse calls that do not come from the cluster's coordinator.</summary>
public static class ClusterCredentialExtensions
{
    /// <summary>
    /// Whether calls need the coordinator's credential: <c>Node:RequireClusterCredential</c> when it is set, otherwise
    /// whenever there is a cluster key.
    /// </summary>
    public static bool RequiresClusterCredential(NodeOptions options, ClusterKeyRing keys)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(keys);
        return options.RequireClusterCredential ?? keys.IsEnabled;
    }

    /// <summary>Registers the <see cref="ClusterCredentialHandler"/> scheme and its policy.</summary>
    public static IServiceCollection AddClusterCredentialAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ClusterCredentialHandler>(ClusterCredentialHandler.SchemeName, null);
        services.AddAuthorizationBuilder().AddPolicy(ClusterCredentialHandler.PolicyName, policy => policy
            .AddAuthenticationSchemes(ClusterCredentialHandler.SchemeName)
            .RequireAuthenticatedUser());
        return services;
    }

    /// <summary>
    /// Requires the coordinator's credential on these endpoints when <see cref="RequiresClusterCredential"/> says so;
    /// otherwise changes nothing.
    /// </summary>
    public static TBuilder RequireClusterCredential<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Add(endpoint =>
        {
            var services = endpoint.ApplicationServices;
            if (RequiresClusterCredential(services.GetRequiredService<IOptions<NodeOptions>>().Value, services.GetRequiredService<ClusterKeyRing>()))
            {
                endpoint.Metadata.Add(new AuthorizeAttribute(ClusterCredentialHandler.PolicyName));
            }
        });
        return builder;
    }
}
