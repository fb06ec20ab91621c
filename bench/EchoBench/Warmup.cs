using System.Diagnostics;
using System.Globalization;

/// <summary>
/// How long a cold cluster takes to reach steady state (<c>--target warmup</c>). Each cold start brings up the AppHost's
/// cluster from nothing (Garnet, the coordinator and <see cref="EchoSettings.Nodes"/> nodes, new processes), and then
/// closed-loop callers send <c>echo</c> through the coordinator from its first call on, counting the calls answered in
/// each second. Each round makes one cold start as built and, with <c>--env</c>, one with those variables set on every
/// service, so the two meet the same machine.
/// </summary>
internal static class Warmup
{
    /// <summary>The share of steady-state throughput that counts as warm.</summary>
    private const double Warm = 0.9;

    /// <summary>The span, in seconds, whose mean throughput must reach <see cref="Warm"/>.</summary>
    private const int Span = 5;

    public static async Task RunAsync(EchoSettings settings)
    {
        if (settings.Seconds < 3 * Span)
        {
            // Steady state is read from the last third, and warmth from spans of Span seconds.
            throw new ArgumentException($"--target warmup needs --seconds of at least {3 * Span}, not {settings.Seconds}.");
        }

        List<(string Name, IReadOnlyList<(string Name, string Value)> Environment)> variants = [("as built", [])];
        if (settings.Environment.Count > 0)
        {
            variants.Add((string.Join(' ', settings.Environment.Select(variable => $"{variable.Name}={variable.Value}")), settings.Environment));
        }

        Console.WriteLine($"cold starts of {settings.Nodes} nodes, {settings.Concurrency} callers through the coordinator for {settings.Seconds} s each, {settings.Rounds} rounds; protocol {settings.Protocol ?? "2025-03-26 (no version header)"}");
        var runs = variants.ToDictionary(variant => variant.Name, _ => new List<ColdRun>());
        for (var round = 1; round <= settings.Rounds; round++)
        {
            foreach (var (name, environment) in variants)
            {
                var run = await ColdStartAsync(settings, environment);
                runs[name].Add(run);
                Console.WriteLine($"round {round} {name}: {run}");
            }
        }

        Console.WriteLine();
        Console.WriteLine($"medians: ready s, steady calls/s, seconds from the first call until {Span} s average {Warm:P0} of steady, the same from the cold start, steady-state seconds lost to warm-up, calls answered in the run");
        foreach (var (name, _) in variants)
        {
            var all = runs[name];
            Console.WriteLine($"{name}: ready {Median(all.Select(run => run.Ready.TotalSeconds)):0.0} s  steady {Median(all.Select(run => run.Steady)):N0}/s  warm at {Median(all.Select(run => (double)run.SecondsToWarm)):0} s  cold start to warm {Median(all.Select(run => run.Ready.TotalSeconds + run.SecondsToWarm)):0} s  lost {Median(all.Select(run => run.SecondsLost)):0.0} s  calls {Median(all.Select(run => (double)run.PerSecond.Sum())):N0}");
        }
    }

    private static async Task<ColdRun> ColdStartAsync(EchoSettings settings, IReadOnlyList<(string Name, string Value)> environment)
    {
        var clock = Stopwatch.StartNew();
        await using var cluster = await Gateway.StartAsync(settings.Nodes, auth: false, environment);
        var ready = clock.Elapsed;
        var (perSecond, errors) = await Load.CountPerSecondAsync(cluster.CoordinatorMcpUrl, settings.Call, settings.Concurrency, settings.Seconds);
        return new ColdRun(ready, perSecond, errors);
    }

    private static double Median(IEnumerable<double> values) => values.Order().ElementAt(values.Count() / 2);

    /// <summary>One cold start: the time until the coordinator routed to every node, then the calls answered each second.</summary>
    private sealed record ColdRun(TimeSpan Ready, long[] PerSecond, long Errors)
    {
        /// <summary>Steady state: the median of the last third's seconds.</summary>
        public double Steady => Median(PerSecond[(PerSecond.Length * 2 / 3)..].Select(calls => (double)calls));

        /// <summary>The end of the first <see cref="Span"/> seconds whose mean reaches <see cref="Warm"/> of steady state.</summary>
        public int SecondsToWarm => Enumerable.Range(Span, PerSecond.Length - Span + 1)
            .FirstOrDefault(end => PerSecond[(end - Span)..end].Average() >= Warm * Steady, PerSecond.Length);

        /// <summary>The calls short of steady state over the run, in seconds of steady-state work.</summary>
        public double SecondsLost => PerSecond.Sum(calls => Math.Max(0, Steady - calls)) / Steady;

        public override string ToString() =>
            $"ready {Ready.TotalSeconds:0.0} s, steady {Steady:N0}/s, warm at {SecondsToWarm} s (cold start to warm {Ready.TotalSeconds + SecondsToWarm:0} s), lost {SecondsLost:0.0} s, calls {PerSecond.Sum():N0}, errors {Errors}; calls/s by {Span} s: "
            + string.Join(' ', PerSecond.Chunk(Span).Select(chunk => chunk.Average().ToString("0", CultureInfo.InvariantCulture)));
    }
}
