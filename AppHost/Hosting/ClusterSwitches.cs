using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace McpAspire.AppHost.Hosting;

/// <summary>
/// The AppHost's own switches, read from its configuration, so each works as a command-line switch
/// (<c>-- --nodes 5</c>), an environment variable or a setting in <c>appsettings.json</c>.
/// </summary>
public sealed class ClusterSwitches
{
    /// <summary>The coordinator's default port.</summary>
    public const int DefaultCoordinatorPort = 5080;

    /// <summary>The command-line syntax, for error messages.</summary>
    public const string Usage = "dotnet run --project AppHost -- [--nodes N] [--coordinator-port P] [--store garnet|redis|<connection string>]";

    /// <summary>How many node replicas to start (1-32). Default 3.</summary>
    public int Nodes { get; private init; } = 3;

    /// <summary>The coordinator's port on 127.0.0.1; 0 lets the orchestrator pick a free one. Default 5080.</summary>
    public int CoordinatorPort { get; private init; } = DefaultCoordinatorPort;

    /// <summary>
    /// The store: <c>garnet</c> (the pinned local dotnet tool, the default), <c>redis</c>
    /// (<c>redis-server</c> from PATH), or the connection string of a server that is already running.
    /// </summary>
    public string Store { get; private init; } = StoreKinds.Garnet;

    /// <summary>Reads the switches from <paramref name="configuration"/>.</summary>
    /// <exception cref="ArgumentException">A switch has an invalid value; the message names it.</exception>
    public static ClusterSwitches Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var store = configuration["store"];
        if (store is not null && string.IsNullOrWhiteSpace(store))
        {
            throw new ArgumentException($"--store needs a value: garnet, redis or a connection string. Usage: {Usage}");
        }

        return new ClusterSwitches
        {
            Nodes = Whole(configuration, "nodes", 3, 1, 32),
            CoordinatorPort = Whole(configuration, "coordinator-port", DefaultCoordinatorPort, 0, 65535),
            Store = store?.Trim() ?? StoreKinds.Garnet,
        };
    }

    private static int Whole(IConfiguration configuration, string key, int fallback, int min, int max)
    {
        var text = configuration[key];
        if (text is null)
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new ArgumentException($"--{key} must be a whole number from {min} to {max}, not '{text}'. Usage: {Usage}");
    }
}
