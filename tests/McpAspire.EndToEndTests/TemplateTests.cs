using System.Diagnostics;
using System.Globalization;

namespace McpAspire.EndToEndTests;

/// <summary>
/// The repository is a <c>dotnet new</c> template: an instance under another name must build, pass its unit tests,
/// and run its AppHost as a user would right after <c>dotnet new</c>, answering <c>echo</c> through its coordinator.
/// </summary>
public sealed class TemplateTests
{
    [Fact]
    public async Task The_template_instantiates_under_another_name_passes_its_unit_tests_and_its_apphost_answers_echo()
    {
        var work = Directory.CreateTempSubdirectory("mcp-aspire-template-");
        try
        {
            var hive = Path.Combine(work.FullName, "hive");
            var instance = Path.Combine(work.FullName, "Contoso.Tools");

            await RunAsync(work.FullName, TimeSpan.FromMinutes(2), "new", "install", Repository.Root, "--debug:custom-hive", hive);
            await RunAsync(work.FullName, TimeSpan.FromMinutes(2), "new", "mcp-aspire", "-n", "Contoso.Tools", "-o", instance, "--debug:custom-hive", hive);

            Assert.True(File.Exists(Path.Combine(instance, "Contoso.Tools.sln")));
            Assert.True(File.Exists(Path.Combine(instance, "McpNode", "Contoso.Tools.McpNode.csproj")));
            Assert.True(File.Exists(Path.Combine(instance, ".config", "dotnet-tools.json")));
            Assert.False(Directory.Exists(Path.Combine(instance, ".template.config")));
            Assert.Empty(Directory.EnumerateDirectories(instance, "bin", SearchOption.AllDirectories));
            var leftovers = Directory.EnumerateFiles(instance, "*", SearchOption.AllDirectories)
                .Where(file => File.ReadAllText(file).Contains("McpAspire", StringComparison.OrdinalIgnoreCase))
                .ToList();
            Assert.Empty(leftovers);

            var output = await RunAsync(instance, TimeSpan.FromMinutes(8), "test", Path.Combine("tests", "Contoso.Tools.UnitTests"), "-nodeReuse:false", "-p:UseSharedCompilation=false");

            Assert.Contains("Passed!", output, StringComparison.Ordinal);
            Assert.Contains("Projects.Contoso_Tools_McpCoordinator", await File.ReadAllTextAsync(Path.Combine(instance, "AppHost", "Hosting", "McpServiceBuilderExtensions.cs"), Cancel), StringComparison.Ordinal);

            var port = AppHostRun.FreePort();
            await using var appHost = AppHostRun.Start(instance, ["--nodes", "1", "--coordinator-port", port.ToString(CultureInfo.InvariantCulture)], path: null, launchProfile: true);
            var mcpUrl = new Uri(await appHost.WaitForLineAsync(AppHostRun.McpUrlLine(), TimeSpan.FromMinutes(3)));
            Assert.Equal($"http://127.0.0.1:{port}/mcp", mcpUrl.ToString());
            Assert.Contains("hello from the scaffold", await EchoOnceANodeIsListedAsync(mcpUrl), StringComparison.Ordinal);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>Calls echo through the coordinator once its registry lists a node; returns the answer.</summary>
    private static async Task<string> EchoOnceANodeIsListedAsync(Uri mcpUrl)
    {
        using var http = new HttpClient();
        await ClusterApiProbe.WaitForNodesAsync(http, mcpUrl, 1);

        using var call = McpPost.To(mcpUrl, """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello from the scaffold"}}}""");
        using var response = await http.SendAsync(call, Cancel);
        return (await McpPost.LastMessageAsync(response)).ToJsonString();
    }

    private static async Task<string> RunAsync(string directory, TimeSpan timeout, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // The test host's own MSBuild and test-runner settings must not leak into the nested build.
        foreach (var key in info.Environment.Keys.Where(key => key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(key);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(timeout, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var text = await output + await errors;
        TestContext.Current.TestOutputHelper?.WriteLine($"$ dotnet {string.Join(' ', arguments)}{Environment.NewLine}{text}");
        Assert.True(process.ExitCode == 0, $"'dotnet {string.Join(' ', arguments)}' exited with {process.ExitCode}:{Environment.NewLine}{text}");
        return text;
    }
}
