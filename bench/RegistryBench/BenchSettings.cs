using System.Globalization;

namespace McpAspire.RegistryBench;

/// <summary>The command line: the simulation's size and length, or, for a replica, its design and store.</summary>
internal sealed record BenchSettings
{
    public int Nodes { get; init; } = 500;

    public int Tools { get; init; } = 20;

    public int Seconds { get; init; } = 20;

    public int Joins { get; init; } = 50;

    public int Rounds { get; init; } = 1;

    public int Port { get; init; }

    /// <summary>What to measure: <c>registry</c> (the registry at scale) or <c>list</c> (<c>tools/list</c> at scale).</summary>
    public string Measure { get; init; } = "registry";

    /// <summary>The designs to run, in order; both by default.</summary>
    public IReadOnlyList<string> Designs { get; init; } = [McpAspire.RegistryBench.Designs.Legacy, McpAspire.RegistryBench.Designs.Current];

    /// <summary>Set when this process is a coordinator replica: <see cref="Designs.Current"/> or <see cref="Designs.Legacy"/>.</summary>
    public string? Coordinator { get; init; }

    public string Store { get; init; } = string.Empty;

    public string Key { get; init; } = string.Empty;

    public static BenchSettings Parse(string[] args)
    {
        var settings = new BenchSettings();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            settings = args[i] switch
            {
                "--nodes" => settings with { Nodes = Number(value) },
                "--tools" => settings with { Tools = Number(value) },
                "--seconds" => settings with { Seconds = Number(value) },
                "--joins" => settings with { Joins = Number(value) },
                "--rounds" => settings with { Rounds = Number(value) },
                "--port" => settings with { Port = Number(value) },
                "--designs" => settings with { Designs = value.Split(',') },
                "--measure" => value is "registry" or "list" ? settings with { Measure = value } : throw new ArgumentException($"--measure is registry or list, not '{value}'."),
                "--coordinator" => settings with { Coordinator = value },
                "--store" => settings with { Store = value },
                "--key" => settings with { Key = value },
                var other => throw new ArgumentException($"Unknown option {other}. Options: --nodes 500 --tools 20 --seconds 20 --joins 50 --rounds 1 --port 0 --designs legacy,current --measure registry|list"),
            };
        }

        return settings;
    }

    private static int Number(string text) => int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
}

/// <summary>The two registry designs compared.</summary>
internal static class Designs
{
    /// <summary>Today's: signed heartbeats that name their tool definitions by hash, checked and updated in place.</summary>
    public const string Current = "current";

    /// <summary>Before: every heartbeat carries the node's full tool definitions, and every read parses them all.</summary>
    public const string Legacy = "legacy";
}
