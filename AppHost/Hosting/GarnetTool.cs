using System.Diagnostics;
using System.Text.Json;
using System.Xml.Linq;

namespace McpAspire.AppHost.Hosting;

/// <summary>
/// Finds the Garnet server that <c>.config/dotnet-tools.json</c> pins, restoring local tools first if it is
/// not in the NuGet cache yet. The AppHost runs Garnet's entry assembly with <c>dotnet</c> directly, not
/// through <c>dotnet tool run</c>, so a stop signal reaches Garnet itself and no wrapper process is left behind.
/// </summary>
public static class GarnetTool
{
    private const string PackageId = "garnet-server";

    /// <summary>The path of Garnet's entry assembly, restoring the tool if needed.</summary>
    /// <param name="repositoryRoot">The folder whose <c>.config/dotnet-tools.json</c> pins Garnet.</param>
    /// <exception cref="InvalidOperationException">The manifest does not pin Garnet, or restoring it failed.</exception>
    public static string Locate(string repositoryRoot)
    {
        var version = PinnedVersion(repositoryRoot);
        if (FindEntryAssembly(version) is { } entry)
        {
            return entry;
        }

        Restore(repositoryRoot);
        return FindEntryAssembly(version)
            ?? throw new InvalidOperationException(
                $"'dotnet tool restore' finished but {PackageId} {version} was not found under {PackagesRoot()}. Use --store redis or --store <connection string> instead.");
    }

    private static string PinnedVersion(string repositoryRoot)
    {
        var manifest = Path.Combine(repositoryRoot, ".config", "dotnet-tools.json");
        using var document = JsonDocument.Parse(File.ReadAllText(manifest));
        return document.RootElement.GetProperty("tools").TryGetProperty(PackageId, out var tool)
            ? tool.GetProperty("version").GetString()!
            : throw new InvalidOperationException($"{manifest} does not list {PackageId}.");
    }

    private static string PackagesRoot() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static string? FindEntryAssembly(string version)
    {
        var tools = Path.Combine(PackagesRoot(), PackageId, version.ToLowerInvariant(), "tools");
        if (!Directory.Exists(tools))
        {
            return null;
        }

        foreach (var settings in Directory.EnumerateFiles(tools, "DotnetToolSettings.xml", SearchOption.AllDirectories).OrderDescending())
        {
            var entryPoint = XDocument.Load(settings).Descendants("Command").FirstOrDefault()?.Attribute("EntryPoint")?.Value;
            var candidate = entryPoint is null ? null : Path.Combine(Path.GetDirectoryName(settings)!, entryPoint);
            if (candidate is not null && File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static void Restore(string repositoryRoot)
    {
        Console.WriteLine($"{PackageId} is not in the NuGet cache yet; running 'dotnet tool restore'.");
        var info = new ProcessStartInfo("dotnet", "tool restore")
        {
            WorkingDirectory = repositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var restore = Process.Start(info) ?? throw new InvalidOperationException("Could not start 'dotnet tool restore'.");
        var errors = restore.StandardError.ReadToEndAsync();
        var output = restore.StandardOutput.ReadToEnd();
        restore.WaitForExit();
        if (restore.ExitCode != 0)
        {
            throw new InvalidOperationException($"'dotnet tool restore' failed with exit code {restore.ExitCode}:{Environment.NewLine}{output}{errors.Result}");
        }
    }
}
