using System.Globalization;

namespace McpAspire.AppHost.Hosting;

/// <summary>What cluster to start: how many nodes, where the coordinator listens and which store to use.</summary>
public sealed class ClusterOptions
{
    /// <summary>The default coordinator port.</summary>
    public const int DefaultCoordinatorPort = 5080;

    /// <summary>How many node replicas to start (1-32). Default 3.</summary>
    public int Nodes { get; init; } = 3;

    /// <summary>The coordinator's port on 127.0.0.1; 0 picks a free port. Default 5080.</summary>
    public int CoordinatorPort { get; init; } = DefaultCoordinatorPort;

    /// <summary>
    /// The store: <c>garnet</c> (the local dotnet tool, the default), <c>redis</c> (<c>redis-server</c>
    /// from PATH), or the connection string of a server that is already running.
    /// </summary>
    public string Store { get; init; } = "garnet";

    /// <summary>How long each resource may take to become healthy.</summary>
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long each resource may take to exit after SIGTERM before it is killed.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Extra environment variables for the coordinator and every node (e.g. <c>Node__Packs</c>).</summary>
    public IDictionary<string, string> Environment { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The command-line syntax, for usage messages.</summary>
    public const string Usage = "dotnet run --project AppHost -- [--nodes N] [--coordinator-port P] [--store garnet|redis|<connection string>]";

    /// <summary>Parses the AppHost's command line.</summary>
    /// <exception cref="ArgumentException">An unknown option or an invalid value; the message says which.</exception>
    public static ClusterOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var nodes = 3;
        var port = DefaultCoordinatorPort;
        var store = "garnet";
        for (var i = 0; i < args.Count; i++)
        {
            var (name, inlineValue) = Split(args[i]);
            switch (name)
            {
                case "--nodes":
                    nodes = ParseInt(name, inlineValue ?? Next(args, ref i, name), 1, 32);
                    break;
                case "--coordinator-port":
                    port = ParseInt(name, inlineValue ?? Next(args, ref i, name), 0, 65535);
                    break;
                case "--store":
                    store = inlineValue ?? Next(args, ref i, name);
                    if (string.IsNullOrWhiteSpace(store))
                    {
                        throw new ArgumentException("--store needs a value: garnet, redis or a connection string.");
                    }

                    break;
                default:
                    throw new ArgumentException($"Unknown option '{args[i]}'. Usage: {Usage}");
            }
        }

        return new ClusterOptions { Nodes = nodes, CoordinatorPort = port, Store = store };
    }

    private static (string Name, string? Value) Split(string arg)
    {
        var eq = arg.IndexOf('=', StringComparison.Ordinal);
        return arg.StartsWith("--", StringComparison.Ordinal) && eq > 0 ? (arg[..eq], arg[(eq + 1)..]) : (arg, null);
    }

    private static string Next(IReadOnlyList<string> args, ref int i, string name) =>
        ++i < args.Count ? args[i] : throw new ArgumentException($"{name} needs a value. Usage: {Usage}");

    private static int ParseInt(string name, string text, int min, int max) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new ArgumentException($"{name} must be a whole number from {min} to {max}, not '{text}'.");
}
