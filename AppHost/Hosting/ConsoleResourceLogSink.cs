namespace McpAspire.AppHost.Hosting;

/// <summary>Writes each resource's lines to the console, prefixed with the resource's name in its own colour.</summary>
public sealed class ConsoleResourceLogSink : IResourceLogSink
{
    private static readonly ConsoleColor[] Palette =
        [ConsoleColor.Cyan, ConsoleColor.Green, ConsoleColor.Magenta, ConsoleColor.Yellow, ConsoleColor.Blue, ConsoleColor.DarkCyan, ConsoleColor.DarkGreen];

    private readonly Lock _gate = new();
    private readonly Dictionary<string, ConsoleColor> _colors = new(StringComparer.Ordinal);
    private int _width = 12;

    /// <inheritdoc/>
    public void WriteLine(string resource, string line, bool isError)
    {
        ArgumentNullException.ThrowIfNull(resource);
        lock (_gate)
        {
            if (!_colors.TryGetValue(resource, out var color))
            {
                color = Palette[_colors.Count % Palette.Length];
                _colors[resource] = color;
                _width = Math.Max(_width, resource.Length + 2);
            }

            var writer = isError ? Console.Error : Console.Out;
            Console.ForegroundColor = color;
            writer.Write($"[{resource}]".PadRight(_width + 1));
            Console.ResetColor();
            writer.WriteLine(line);
        }
    }
}
