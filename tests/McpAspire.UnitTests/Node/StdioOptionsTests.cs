using System.ComponentModel.DataAnnotations;
using McpAspire.McpNode.Packs.Stdio;

namespace McpAspire.UnitTests.Node;

public sealed class StdioOptionsTests
{
    [Fact]
    public void A_command_is_enough_and_the_defaults_are_valid()
    {
        var options = new StdioOptions { Command = "npx" };

        Assert.Empty(Validate(options));
        Assert.Equal(TimeSpan.FromSeconds(1), options.RestartDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), options.MaxRestartDelay);
    }

    [Theory]
    [InlineData(null, "00:00:01", "00:00:30", "00:01:00", null, "Stdio:Command must be set")]
    [InlineData("  ", "00:00:01", "00:00:30", "00:01:00", null, "Stdio:Command must be set")]
    [InlineData("npx", "00:00:00.010", "00:00:30", "00:01:00", null, "Stdio:RestartDelay")]
    [InlineData("npx", "00:00:10", "00:00:05", "00:01:00", null, "Stdio:MaxRestartDelay")]
    [InlineData("npx", "00:00:01", "00:00:30", "00:00:00", null, "Stdio:StartTimeout")]
    [InlineData("npx", "00:00:01", "00:00:30", "00:01:00", "/no/such/directory", "Stdio:WorkingDirectory '/no/such/directory' does not exist")]
    public void A_bad_setting_is_refused_naming_its_key(string? command, string restart, string maxRestart, string start, string? directory, string reason)
    {
        var options = new StdioOptions
        {
            Command = command,
            RestartDelay = TimeSpan.Parse(restart, System.Globalization.CultureInfo.InvariantCulture),
            MaxRestartDelay = TimeSpan.Parse(maxRestart, System.Globalization.CultureInfo.InvariantCulture),
            StartTimeout = TimeSpan.Parse(start, System.Globalization.CultureInfo.InvariantCulture),
            WorkingDirectory = directory,
        };

        Assert.Contains(Validate(options), problem => problem.Contains(reason, StringComparison.Ordinal));
    }

    private static List<string> Validate(StdioOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return [.. results.Select(result => result.ErrorMessage!)];
    }
}
