namespace McpAspire.AppHost.Hosting;

/// <summary>A resource did not come up; the message names it and quotes its last output.</summary>
public sealed class ClusterStartException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ClusterStartException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ClusterStartException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public ClusterStartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
