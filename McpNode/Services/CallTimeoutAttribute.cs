namespace McpAspire.McpNode.Services;

/// <summary>
/// Gives a tool its own time limit instead of <see cref="NodeOptions.CallTimeout"/>. Configuration
/// (<c>Node:ToolTimeouts:{tool}</c>) still wins, so operators can tune a tool without a build.
/// </summary>
/// <param name="seconds">The limit, in seconds.</param>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class CallTimeoutAttribute(double seconds) : Attribute
{
    /// <summary>The tool's time limit.</summary>
    public TimeSpan Timeout { get; } = TimeSpan.FromSeconds(seconds);
}
