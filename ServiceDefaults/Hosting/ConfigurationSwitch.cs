using Microsoft.Extensions.Configuration;

namespace McpAspire.ServiceDefaults.Hosting;

/// <summary>An optional on/off setting: <c>true</c> or <c>false</c>, or unset for the caller's default.</summary>
public static class ConfigurationSwitch
{
    /// <summary>The value of <paramref name="key"/>; <see langword="null"/> when it is unset or empty.</summary>
    /// <exception cref="InvalidConfigurationException">The value is not true or false; the message names the key.</exception>
    public static bool? Read(IConfiguration configuration, string key)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration[key] switch
        {
            null or "" => null,
            var text when bool.TryParse(text, out var on) => on,
            var text => throw new InvalidConfigurationException($"{key} must be true or false, not '{text}'."),
        };
    }
}
