using System.Diagnostics;

namespace McpAspire.EndToEndTests;

/// <summary>
/// A service started with an invalid setting stops with exit code 78 and one line that names the key, not a stack
/// trace. Each is started as DCP starts it (<c>dotnet run --no-build --no-launch-profile</c>), without the rest of the cluster.
/// </summary>
public sealed class ConfigurationErrorTests
{
    private const string Node = "McpNode/McpAspire.McpNode.csproj";
    private const string Coordinator = "McpCoordinator/McpAspire.McpCoordinator.csproj";

    public static TheoryData<string, string, string> Cases => new()
    {
        { Node, "Node__HeartbeatInterval=00:00:02;Node__HeartbeatTtl=00:00:01", "Node:HeartbeatTtl" },
        { Node, "Node__Packs=no-such-pack", "Node:Packs" },
        { Node, "Mcp__MaxRequestBodyBytes=1", "Mcp:MaxRequestBodyBytes" },
        { Node, "Shutdown__Timeout=01:00:00", "Shutdown:Timeout" },
        { Node, "HttpResilience__AttemptTimeout__Timeout=00:01:00", "HttpResilience:AttemptTimeout:Timeout" },
        { Node, "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318;OTEL_EXPORTER_OTLP_PROTOCOL=carrier-pigeon", "OTEL_EXPORTER_OTLP_PROTOCOL" },
        { Node, "ConnectionStrings__redis=redis://", "ConnectionStrings:redis" },
        { Node, "Node__Packs=no-such-pack;Mcp__MaxRequestBodyBytes=1", "Node:Packs,Mcp:MaxRequestBodyBytes" },
        { Node, "Node__Packs=core,conformance", "Node:Packs,Mcp:Stateless=false" },
        { Coordinator, "ConnectionStrings__redis=", "ConnectionStrings:redis" },
        { Coordinator, "ConnectionStrings__redis=127.0.0.1:1;Coordinator__MaxAttempts=0", "Coordinator:MaxAttempts" },
        { Coordinator, "ConnectionStrings__redis=127.0.0.1:1;Mcp__Stateless=false", "Coordinator:SessionKey,Mcp:Stateless" },
        { Coordinator, "ConnectionStrings__redis=127.0.0.1:1;Coordinator__SessionKey=c2hvcnQ=", "Coordinator:SessionKey" },
        { Coordinator, "ConnectionStrings__redis=127.0.0.1:1;Mcp__SessionMode=StatefulForInitializeClients", "Mcp:SessionMode" },
        { Coordinator, "ConnectionStrings__redis=127.0.0.1:1;ASPNETCORE_URLS=http://0.0.0.0:0", "Coordinator:AllowAnonymous=true,Authentication:Schemes:Bearer" },
        { Coordinator, "ConnectionStrings__redis=127.0.0.1:1;Authentication__Schemes__Bearer__ValidIssuer=https://issuer.example", "Authentication:Schemes:Bearer:ValidAudiences,Authentication:Schemes:Bearer has neither Authority" },
        { Coordinator, "ConnectionStrings__redis=127.0.0.1:1;Authentication__Schemes__ApiKey__Keys__bot__Hash=abc", "Authentication:Schemes:ApiKey:Keys:bot:Hash" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task An_invalid_setting_stops_the_service_with_one_line_naming_the_key(string project, string settings, string keys)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { "run", "--no-build", "--no-launch-profile", "--project", Path.Combine(Repository.Root, project) },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        foreach (var setting in settings.Split(';'))
        {
            var (name, value) = (setting[..setting.IndexOf('=', StringComparison.Ordinal)], setting[(setting.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            start.Environment[name] = value;
        }

        using var service = Process.Start(start)!;
        var output = service.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = await service.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await service.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        await output;

        Assert.Equal(78, service.ExitCode);
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains("invalid configuration", line, StringComparison.Ordinal);
        Assert.All(keys.Split(','), key => Assert.Contains(key, line, StringComparison.Ordinal));
    }
}
