using System.Collections.Concurrent;
using McpAspire.AppHost.Hosting;

namespace McpAspire.EndToEndTests;

/// <summary>Shows every resource's output in the test log and keeps it for assertions.</summary>
internal sealed class TestLogSink : IResourceLogSink
{
    private readonly ConcurrentQueue<(string Resource, string Line)> _lines = new();

    public void WriteLine(string resource, string line, bool isError)
    {
        _lines.Enqueue((resource, line));
        TestContext.Current.TestOutputHelper?.WriteLine($"[{resource}] {line}");
    }

    /// <summary>The lines <paramref name="resource"/> has written so far.</summary>
    public IReadOnlyList<string> LinesOf(string resource) => [.. _lines.Where(entry => entry.Resource == resource).Select(entry => entry.Line)];
}
