namespace McpAspire.ServiceDefaults.Hosting;

/// <summary>
/// A configuration value is missing or invalid. The message names the key and says what is expected;
/// a service that throws it at start-up stops with that message alone (see <see cref="StartupErrors"/>).
/// </summary>
public sealed class InvalidConfigurationException : InvalidOperationException
{
    /// <summary>Creates the exception with a default message.</summary>
    public InvalidConfigurationException()
        : base("The configuration is invalid.")
    {
    }

    /// <summary>Creates the exception with a message that names the key.</summary>
    public InvalidConfigurationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message that names the key, and its cause.</summary>
    public InvalidConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
