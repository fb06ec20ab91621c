namespace McpAspire.AppHost.Hosting;

/// <summary>The life cycle of a resource, as the AppHost reports it.</summary>
public enum ResourceState
{
    /// <summary>Started, not yet healthy.</summary>
    Starting,

    /// <summary>Answering its health check.</summary>
    Healthy,

    /// <summary>Being stopped.</summary>
    Stopping,

    /// <summary>Stopped by the AppHost.</summary>
    Stopped,

    /// <summary>Exited on its own.</summary>
    Exited,
}
