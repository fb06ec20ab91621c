namespace McpAspire.EndToEndTests;

/// <summary>Where the repository under test is.</summary>
internal static class Repository
{
    /// <summary>The repository root: the folder above the AppHost project's folder.</summary>
    public static string Root { get; } = Path.GetFullPath(Path.Combine(Projects.McpAspire_AppHost.ProjectPath, ".."));

    /// <summary>The interop scripts and the npm packages they use.</summary>
    public static string InteropDirectory { get; } = Path.Combine(Root, "tests", "interop");
}
