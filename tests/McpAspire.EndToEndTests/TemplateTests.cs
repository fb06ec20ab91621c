using System.Diagnostics;
using McpAspire.AppHost.Hosting;

namespace McpAspire.EndToEndTests;

/// <summary>The repository is a <c>dotnet new</c> template; an instance under another name must build and pass its tests.</summary>
public sealed class TemplateTests
{
    [Fact]
    public async Task The_template_instantiates_under_another_name_and_the_copy_passes_its_unit_tests()
    {
        var work = Directory.CreateTempSubdirectory("mcp-aspire-template-");
        try
        {
            var hive = Path.Combine(work.FullName, "hive");
            var instance = Path.Combine(work.FullName, "Contoso.Tools");

            await RunAsync(work.FullName, TimeSpan.FromMinutes(2), "new", "install", ServiceProjects.RepositoryRoot, "--debug:custom-hive", hive);
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
        }
        finally
        {
            work.Delete(recursive: true);
        }
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
