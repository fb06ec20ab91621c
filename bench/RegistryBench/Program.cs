using McpAspire.RegistryBench;

// The registry at scale: simulated signed nodes heartbeat into one store while two coordinator replicas, each a
// process of its own, follow them. Today's registry and the design before it (full tool definitions in every
// heartbeat, all re-read every second) run in the same run on the same store, one after the other, and are compared.
var settings = BenchSettings.Parse(args);
if (settings.Coordinator is { } design)
{
    return await Replica.RunAsync(design, settings);
}

return await Simulation.RunAsync(settings);
