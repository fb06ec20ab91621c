namespace McpAspire.AppHost.Hosting;

/// <summary>
/// A Redis-protocol server the AppHost runs as a local process (Garnet or <c>redis-server</c>), listening on
/// 127.0.0.1 with a password. Services that reference it get <c>ConnectionStrings__{name}</c> in
/// StackExchange.Redis form: <c>127.0.0.1:port,password=...</c>.
/// </summary>
/// <param name="name">The resource name, which is also the connection name.</param>
/// <param name="command">The program to run.</param>
/// <param name="workingDirectory">Where it runs.</param>
/// <param name="password">The password clients must give.</param>
public sealed class LocalStoreResource(string name, string command, string workingDirectory, ParameterResource password)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    /// <summary>The name of the store's TCP endpoint.</summary>
    public const string EndpointName = "tcp";

    /// <summary>The password clients must give.</summary>
    public ParameterResource Password { get; } = password;

    /// <summary>Where the store listens.</summary>
    public EndpointReference Endpoint => field ??= new EndpointReference(this, EndpointName);

    /// <inheritdoc/>
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Endpoint.Property(EndpointProperty.IPV4Host)}:{Endpoint.Property(EndpointProperty.Port)},password={Password}");
}
