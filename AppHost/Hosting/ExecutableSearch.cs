namespace McpAspire.AppHost.Hosting;

/// <summary>Finds programs the way a shell does: the first match in a directory on PATH.</summary>
public static class ExecutableSearch
{
    /// <summary>The full path of <paramref name="program"/>, or <see langword="null"/> when no PATH directory has it.</summary>
    public static string? Find(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, program))
            .FirstOrDefault(File.Exists);
}
