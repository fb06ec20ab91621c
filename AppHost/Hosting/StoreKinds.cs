namespace McpAspire.AppHost.Hosting;

/// <summary>The names of the stores the AppHost can run itself.</summary>
public static class StoreKinds
{
    /// <summary>Garnet, from the local dotnet tool the repository pins.</summary>
    public const string Garnet = "garnet";

    /// <summary><c>redis-server</c> from PATH.</summary>
    public const string Redis = "redis";
}
