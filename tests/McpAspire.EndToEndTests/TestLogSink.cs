using McpAspire.AppHost.Hosting;

namespace McpAspire.EndToEndTests;

/// <summary>Sends the cluster's log lines to the running test's output, prefixed like the AppHost does.</summary>
internal sealed class TestLogSink : IResourceLogSink
{
    public void WriteLine(string resource, string line, bool isError) =>
        TestContext.Current.TestOutputHelper?.WriteLine($"[{resource}] {line}");
}
