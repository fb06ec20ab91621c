namespace McpAspire.AppHost.Hosting;

/// <summary>Receives every line a resource writes, and the AppHost's own notes about it.</summary>
public interface IResourceLogSink
{
    /// <summary>Writes one line from <paramref name="resource"/>.</summary>
    void WriteLine(string resource, string line, bool isError);
}
