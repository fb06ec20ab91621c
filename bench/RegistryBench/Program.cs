using McpAspire.RegistryBench;

// The registry at scale: simulated signed nodes heartbeat into one store while two coordinator replicas, each a
// process of its own, follow them. Today's registry and the design before it (full tool definitions in every
// heartbeat, all re-read every second) run in the same run on the same store, one after the other, and are compared.
// With --measure list, it measures a coordinator's tools/list over 10,000 tools against one over 100 (ListBench).
var settings = BenchSettings.Parse(args);
if (settings.Coordinator is { } design)
{
    return await Replica.RunAsync(design, settings);
}

return settings.Measure == "list" ? await ListBench.RunAsync(settings) : await Simulation.RunAsync(settings);
