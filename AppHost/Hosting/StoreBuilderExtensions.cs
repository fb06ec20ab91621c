using Microsoft.Extensions.DependencyInjection;

namespace McpAspire.AppHost.Hosting;

/// <summary>
/// The cluster's Redis-protocol store. Locally it runs Garnet or <c>redis-server</c> as a process (no container
/// engine needed) or uses a server that is already running; published, it is Aspire's Redis container, which
/// azd provisions.
/// </summary>
public static class StoreBuilderExtensions
{
    /// <summary>
    /// Adds the store named <paramref name="name"/>: <see cref="StoreKinds.Garnet"/>, <see cref="StoreKinds.Redis"/>
    /// or a connection string. In publish mode a store the AppHost would run itself becomes a Redis container.
    /// </summary>
    /// <exception cref="ArgumentException"><c>--store redis</c> without <c>redis-server</c> on PATH.</exception>
    public static IResourceBuilder<IResourceWithConnectionString> AddStore(this IDistributedApplicationBuilder builder, string name, string store)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(store);
        var runsItsOwn = store.Equals(StoreKinds.Garnet, StringComparison.OrdinalIgnoreCase) || store.Equals(StoreKinds.Redis, StringComparison.OrdinalIgnoreCase);
        if (!runsItsOwn)
        {
            if (builder.ExecutionContext.IsPublishMode)
            {
                // A published app gets the connection string at deploy time (azd asks for it), never in the manifest.
                return builder.AddConnectionString(name);
            }

            var connectionString = builder.AddParameter($"{name}-connection-string", store, secret: true);
            return builder.AddConnectionString(name, ReferenceExpression.Create($"{connectionString}")).WithStoreHealthCheck();
        }

        if (builder.ExecutionContext.IsPublishMode)
        {
            return builder.AddRedis(name);
        }

        return store.Equals(StoreKinds.Garnet, StringComparison.OrdinalIgnoreCase) ? builder.AddLocalGarnet(name) : builder.AddLocalRedisServer(name);
    }

    /// <summary>Runs Garnet from the pinned local dotnet tool, with Lua scripting and a generated password.</summary>
    public static IResourceBuilder<LocalStoreResource> AddLocalGarnet(this IDistributedApplicationBuilder builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var root = RepositoryRoot(builder);
        var garnet = GarnetTool.Locate(root);
        return builder.AddLocalStore(name, "dotnet", root, (store, args) =>
        {
            args.Add(garnet);
            args.Add("--bind");
            args.Add("127.0.0.1");
            args.Add("--port");
            args.Add(store.Endpoint.Property(EndpointProperty.TargetPort));
            args.Add("--lua");
            args.Add("--auth");
            args.Add("Password");
            args.Add("--password");
            args.Add(store.Password);
        });
    }

    /// <summary>Runs <c>redis-server</c> from PATH, without persistence and with a generated password.</summary>
    /// <exception cref="ArgumentException"><c>redis-server</c> is not on PATH.</exception>
    public static IResourceBuilder<LocalStoreResource> AddLocalRedisServer(this IDistributedApplicationBuilder builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var redisServer = ExecutableSearch.Find("redis-server")
            ?? throw new ArgumentException("--store redis needs redis-server on PATH (e.g. 'apt-get install redis-server'); the default --store garnet needs only the .NET SDK.");
        return builder.AddLocalStore(name, redisServer, RepositoryRoot(builder), (store, args) =>
        {
            args.Add("--bind");
            args.Add("127.0.0.1");
            args.Add("--port");
            args.Add(store.Endpoint.Property(EndpointProperty.TargetPort));
            args.Add("--save");
            args.Add(string.Empty);
            args.Add("--appendonly");
            args.Add("no");
            args.Add("--requirepass");
            args.Add(store.Password);
        });
    }

    private static IResourceBuilder<LocalStoreResource> AddLocalStore(
        this IDistributedApplicationBuilder builder, string name, string command, string workingDirectory, Action<LocalStoreResource, IList<object>> arguments)
    {
        var password = builder.AddParameter($"{name}-password", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);
        var store = new LocalStoreResource(name, command, workingDirectory, password.Resource);
        return builder.AddResource(store)
            // Not proxied: the store listens on the port it is given, as a server of its own would.
            .WithEndpoint(LocalStoreResource.EndpointName, endpoint =>
            {
                endpoint.UriScheme = "tcp";
                endpoint.IsProxied = false;
                endpoint.TargetHost = "127.0.0.1";
            })
            .WithArgs(context => arguments(store, context.Args))
            .WithStoreHealthCheck();
    }

    /// <summary>
    /// Marks the store healthy once it answers a PING with its connection string, so the services that
    /// wait for it start only then, and the dashboard shows when it stops answering.
    /// </summary>
    private static IResourceBuilder<T> WithStoreHealthCheck<T>(this IResourceBuilder<T> store)
        where T : IResourceWithConnectionString
    {
        string? connectionString = null;
        store.ApplicationBuilder.Eventing.Subscribe<ConnectionStringAvailableEvent>(store.Resource, async (_, cancellationToken) =>
            connectionString = await store.Resource.GetConnectionStringAsync(cancellationToken).ConfigureAwait(false));
        var key = $"{store.Resource.Name}_check";
        store.ApplicationBuilder.Services.AddHealthChecks().AddRedis(
            _ => connectionString ?? throw new InvalidOperationException($"The connection string of '{store.Resource.Name}' is not known yet."),
            name: key);
        return store.WithHealthCheck(key);
    }

    private static string RepositoryRoot(IDistributedApplicationBuilder builder) =>
        Path.GetFullPath(Path.Combine(builder.AppHostDirectory, ".."));
}
