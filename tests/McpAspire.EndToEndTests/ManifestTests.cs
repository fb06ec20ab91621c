using System.Diagnostics;
using System.Text.Json.Nodes;

namespace McpAspire.EndToEndTests;

/// <summary>
/// What azd deploys: the manifest <c>dotnet run --project AppHost -- --publisher manifest</c> writes, and the
/// <c>azure.yaml</c> that points azd at the AppHost.
/// </summary>
public sealed class ManifestTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_manifest_has_the_services_as_projects_a_password_protected_redis_container_and_their_probes()
    {
        var resources = await PublishAsync();

        Assert.Equal("container.v0", resources["redis"]!["type"]!.GetValue<string>());
        Assert.Contains("password={redis-password.value}", resources["redis"]!["connectionString"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("{redis-password.value}", resources["redis"]!["env"]!["REDIS_PASSWORD"]!.GetValue<string>());
        string[] services = ["coordinator", "node-1", "node-2", "node-3"];
        foreach (var service in services)
        {
            var resource = resources[service]!;
            Assert.Equal("project.v0", resource["type"]!.GetValue<string>());
            Assert.Equal("{redis.connectionString}", resource["env"]!["ConnectionStrings__redis"]!.GetValue<string>());
            Assert.Equal(
                ["readiness /health", "liveness /alive"],
                resource["probes"]!.AsArray().Select(probe => $"{probe!["type"]} {probe["path"]}"));
        }

        Assert.True(resources["coordinator"]!["bindings"]!["http"]!["external"]!.GetValue<bool>());
        Assert.All(services.Skip(1), node => Assert.Null(resources[node]!["bindings"]!["http"]!["external"]));
        Assert.Equal("{node-2.bindings.http.url}/mcp", resources["node-2"]!["env"]!["Node__PublicUrl"]!.GetValue<string>());
    }

    [Fact]
    public async Task No_secret_is_in_the_manifest_in_clear_the_session_and_cluster_keys_are_generated_at_deploy_time()
    {
        const string connectionString = "cache.example:6380,password=never-in-the-manifest,ssl=true";
        var text = (await PublishAsync("--store", connectionString)).ToJsonString();
        var resources = JsonNode.Parse(text)!.AsObject();

        Assert.DoesNotContain("never-in-the-manifest", text, StringComparison.Ordinal);
        Assert.Equal("{session-key.value}", resources["coordinator"]!["env"]!["Coordinator__SessionKey"]!.GetValue<string>());
        var sessionKey = resources["session-key"]!["inputs"]!["value"]!;
        Assert.True(sessionKey["secret"]!.GetValue<bool>());
        Assert.True(sessionKey["default"]!["generate"]!["minLength"]!.GetValue<int>() >= 43);
        var clusterKey = resources["cluster-key"]!["inputs"]!["value"]!;
        Assert.True(clusterKey["secret"]!.GetValue<bool>());
        Assert.True(clusterKey["default"]!["generate"]!["minLength"]!.GetValue<int>() >= 43);
        Assert.All(
            ["coordinator", "node-1", "node-2", "node-3"],
            service => Assert.Equal("{cluster-key.value}", resources[service]!["env"]!["Cluster__Key"]!.GetValue<string>()));
        Assert.Equal("parameter.v0", resources["redis"]!["type"]!.GetValue<string>());
        // Every secret input is asked for or generated at deploy time: none carries a value.
        var secrets = resources.Where(resource => resource.Value!["inputs"] is JsonObject).SelectMany(resource => resource.Value!["inputs"]!.AsObject())
            .Where(input => input.Value!["secret"]?.GetValue<bool>() == true).ToList();
        Assert.Equal(3, secrets.Count);
        Assert.All(secrets, input => Assert.Null(input.Value!["default"]?["value"]));
    }

    [Fact]
    public async Task A_published_coordinator_takes_tokens_from_the_identity_provider_azd_asks_for()
    {
        var resources = (await PublishAsync()).AsObject();
        var env = resources["coordinator"]!["env"]!;

        Assert.Equal("{auth-authority.value}", env["Authentication__Schemes__Bearer__Authority"]!.GetValue<string>());
        Assert.Equal("{auth-audience.value}", env["Authentication__Schemes__Bearer__ValidAudiences__0"]!.GetValue<string>());
        Assert.Null(env["Coordinator__AllowAnonymous"]);
        Assert.All(["auth-authority", "auth-audience"], name =>
        {
            Assert.Equal("parameter.v0", resources[name]!["type"]!.GetValue<string>());
            Assert.Null(resources[name]!["inputs"]!["value"]!["default"]);
        });
    }

    [Fact]
    public async Task A_published_coordinator_serves_servers_given_by_url_and_leaves_out_those_the_apphost_would_run()
    {
        var resources = await PublishAsync(
            "--McpServers:search:Url=https://search.example.com/mcp", "--McpServers:search:Prefix=search_", "--McpServers:local:Command=npx");
        var env = resources["coordinator"]!["env"]!;

        Assert.Equal("https://search.example.com/mcp", env["Coordinator__Servers__search__Url"]!.GetValue<string>());
        Assert.Equal("search_", env["Coordinator__Servers__search__Prefix"]!.GetValue<string>());
        Assert.Null(resources["local"]);
        Assert.Null(env["Coordinator__Servers__local__Url"]);
    }

    [Fact]
    public void Azure_yaml_points_azd_at_the_apphost()
    {
        var yaml = File.ReadAllLines(Path.Combine(Repository.Root, "azure.yaml")).Select(line => line.Trim()).ToList();

        Assert.Contains("project: ./AppHost/McpAspire.AppHost.csproj", yaml);
        Assert.Contains("language: dotnet", yaml);
        Assert.Contains("host: containerapp", yaml);
        Assert.True(File.Exists(Path.Combine(Repository.Root, "AppHost", "McpAspire.AppHost.csproj")));
    }

    /// <summary>Runs the README's publish command and returns the manifest's resources.</summary>
    private static async Task<JsonObject> PublishAsync(params string[] switches)
    {
        var output = Directory.CreateTempSubdirectory("mcp-aspire-manifest-");
        try
        {
            var manifest = Path.Combine(output.FullName, "aspire-manifest.json");
            var info = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { "run", "--project", Path.Combine(Repository.Root, "AppHost"), "--no-build", "--", "--publisher", "manifest", "--output-path", manifest },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in switches)
            {
                info.ArgumentList.Add(argument);
            }

            using var publish = Process.Start(info)!;
            var stdout = publish.StandardOutput.ReadToEndAsync(Cancel);
            var stderr = publish.StandardError.ReadToEndAsync(Cancel);
            await publish.WaitForExitAsync(Cancel).WaitAsync(TimeSpan.FromMinutes(2), Cancel);
            Assert.True(publish.ExitCode == 0, $"publishing failed ({publish.ExitCode}): {await stdout}{await stderr}");
            return JsonNode.Parse(await File.ReadAllTextAsync(manifest, Cancel))!["resources"]!.AsObject();
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}
