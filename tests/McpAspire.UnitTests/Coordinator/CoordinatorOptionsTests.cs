using System.ComponentModel.DataAnnotations;
using McpAspire.McpCoordinator;

namespace McpAspire.UnitTests.Coordinator;

public sealed class CoordinatorOptionsTests
{
    [Fact]
    public void Defaults_are_valid() => Assert.Empty(Validate(new CoordinatorOptions()));

    [Theory]
    [InlineData("RegistryRefreshInterval", "00:00:00")]
    [InlineData("RegistryRefreshInterval", "00:10:01")]
    [InlineData("MaxAttempts", "0")]
    [InlineData("MaxAttempts", "11")]
    [InlineData("ConnectTimeout", "00:00:00.050")]
    [InlineData("PooledConnectionLifetime", "00:00:00")]
    [InlineData("MaxConnectionsPerNode", "0")]
    [InlineData("MaxConnectionsPerNode", "-1")]
    [InlineData("ToolsPageSize", "0")]
    [InlineData("BreakerFailureRatio", "0")]
    [InlineData("BreakerFailureRatio", "1.5")]
    [InlineData("BreakerMinimumThroughput", "1")]
    [InlineData("BreakerSamplingDuration", "00:00:00.100")]
    [InlineData("BreakerBreakDuration", "00:00:00.100")]
    public void An_out_of_range_value_is_refused_naming_its_key(string property, string value)
    {
        var options = new CoordinatorOptions();
        var setter = typeof(CoordinatorOptions).GetProperty(property)!;
        setter.SetValue(options, setter.PropertyType == typeof(TimeSpan)
            ? TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture)
            : Convert.ChangeType(value, setter.PropertyType, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Contains(Validate(options), message => message.Contains($"Coordinator:{property}", StringComparison.Ordinal));
    }

    private static List<string> Validate(CoordinatorOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return [.. results.Select(result => result.ErrorMessage ?? string.Empty)];
    }
}
