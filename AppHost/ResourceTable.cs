using McpAspire.AppHost.Hosting;

namespace McpAspire.AppHost;

/// <summary>Prints the cluster's resources: name, kind, state, process id and URL.</summary>
internal static class ResourceTable
{
    public static void Write(TextWriter output, McpCluster cluster)
    {
        var rows = cluster.Resources
            .Select(resource => (resource.Name, resource.Kind, State: resource.State.ToString(), Pid: resource.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), Url: resource.Url ?? string.Empty))
            .ToList();
        if (!cluster.Resources.Any(resource => resource.Kind is "garnet" or "redis-server"))
        {
            rows.Insert(0, ("store", "external", "Healthy", "-", cluster.StoreConnectionString));
        }

        var name = Math.Max(8, rows.Max(row => row.Name.Length));
        var kind = Math.Max(4, rows.Max(row => row.Kind.Length));
        var state = Math.Max(5, rows.Max(row => row.State.Length));
        var pid = Math.Max(3, rows.Max(row => row.Pid.Length));
        output.WriteLine();
        output.WriteLine($"{"RESOURCE".PadRight(name)}  {"TYPE".PadRight(kind)}  {"STATE".PadRight(state)}  {"PID".PadRight(pid)}  URL");
        foreach (var row in rows)
        {
            output.WriteLine($"{row.Name.PadRight(name)}  {row.Kind.PadRight(kind)}  {row.State.PadRight(state)}  {row.Pid.PadRight(pid)}  {row.Url}");
        }

        output.WriteLine();
    }
}
