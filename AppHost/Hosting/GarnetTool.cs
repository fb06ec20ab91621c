using System.Diagnostics;
using System.Text.Json;
using System.Xml.Linq;

namespace McpAspire.AppHost.Hosting;

/// <summary>
/// Finds the Garnet server that <c>.config/dotnet-tools.json</c> pins, restoring local tools first if
/// it is not in the NuGet cache yet. The AppHost runs its entry assembly directly (not through
/// <c>dotnet tool run</c>), so a stop signal reaches Garnet itself and no wrapper process is left behind.
/// </summary>
public static class GarnetTool
{
    private const string PackageId = "garnet-server";

    /// <summary>The path of Garnet's entry assembly, restoring the tool if needed.</summary>
    /// <exception cref="InvalidOperationException">The manifest does not pin Garnet, or restoring it failed.</exception>
    public static async Task<string> LocateAsync(IResourceLogSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sink);
        var version = PinnedVersion();
        var entry = FindEntryAssembly(version);
        if (entry is not null)
        {
            return entry;
        }

        sink.WriteLine("store", $"garnet-server {version} is not in the NuGet cache yet; running 'dotnet tool restore'", isError: false);
        await RestoreAsync(sink, cancellationToken);
        return FindEntryAssembly(version)
            ?? throw new InvalidOperationException(
                $"'dotnet tool restore' finished but garnet-server {version} was not found under {PackagesRoot()}. Use --store redis or --store <connection string> instead.");
    }

    private static string PinnedVersion()
    {
        var manifest = Path.Combine(ServiceProjects.RepositoryRoot, ".config", "dotnet-tools.json");
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

    private static async Task RestoreAsync(IResourceLogSink sink, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("dotnet", "tool restore")
        {
            WorkingDirectory = ServiceProjects.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var restore = Process.Start(info) ?? throw new InvalidOperationException("Could not start 'dotnet tool restore'.");
        var output = restore.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = restore.StandardError.ReadToEndAsync(cancellationToken);
        await restore.WaitForExitAsync(cancellationToken);
        foreach (var line in (await output + await errors).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            sink.WriteLine("store", line, isError: restore.ExitCode != 0);
        }

        if (restore.ExitCode != 0)
        {
            throw new InvalidOperationException($"'dotnet tool restore' failed with exit code {restore.ExitCode}; see the lines above.");
        }
    }
}
