namespace McpAspire.McpNode.Services;

/// <summary>
/// How long a tool usually takes, in words, for <c>get_capabilities</c> ("under 1 s", "about
/// count × delayMs ms"). Clients use it to choose timeouts and to decide whether to ask for progress.
/// </summary>
/// <param name="estimate">The estimate, in words.</param>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class EstimatedDurationAttribute(string estimate) : Attribute
{
    /// <summary>The estimate, in words.</summary>
    public string Estimate { get; } = estimate;
}
