using System.Text.Json.Nodes;

namespace McpAspire.UnitTests;

/// <summary>
/// The runtime settings the services ship with, read from the <c>runtimeconfig.json</c> each one is built with and run
/// by: under the AppHost, with <c>dotnet run</c>, and published (docs/decisions/0018-tier-up-without-delay.md).
/// </summary>
public sealed class ServiceRuntimeSettingsTests
{
    [Theory]
    [InlineData("McpAspire.McpCoordinator")]
    [InlineData("McpAspire.McpNode")]
    public void Hot_code_tiers_up_without_the_call_counting_delay_and_keeps_dynamic_pgo(string service)
    {
        var settings = ConfigProperties(service);

        Assert.Equal(0, settings["System.Runtime.TieredCompilation.CallCountingDelayMs"]?.GetValue<int>());
        Assert.False(settings.ContainsKey("System.Runtime.TieredPGO"));
        Assert.False(settings.ContainsKey("System.Runtime.TieredCompilation"));
    }

    private static JsonObject ConfigProperties(string service)
    {
        var path = Path.Combine(AppContext.BaseDirectory, $"{service}.runtimeconfig.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!;
        return config["runtimeOptions"]!["configProperties"]!.AsObject();
    }
}
