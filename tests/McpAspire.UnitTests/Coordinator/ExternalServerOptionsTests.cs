using System.ComponentModel.DataAnnotations;
using System.Text.Json.Nodes;
using McpAspire.Cluster;
using McpAspire.McpCoordinator.Federation;
using Microsoft.Extensions.Configuration;
using ModelContextProtocol.Protocol;

namespace McpAspire.UnitTests.Coordinator;

public sealed class ExternalServerOptionsTests
{
    [Fact]
    public void A_server_with_a_url_is_valid_and_gets_the_defaults()
    {
        var options = Bind(("Coordinator:Servers:search:Url", "https://search.example.com/mcp"));

        Assert.Empty(Validate(options));
        var search = options.Servers["search"];
        Assert.Equal(TimeSpan.FromSeconds(10), search.HealthInterval);
        Assert.Equal(32, search.MaxConcurrentCalls);
        Assert.Null(search.Prefix);
    }

    [Theory]
    [InlineData("Url", null, "Url is not set")]
    [InlineData("Url", "/relative/mcp", "not an absolute http or https URL")]
    [InlineData("Url", "ftp://files.example.com/mcp", "not an absolute http or https URL")]
    [InlineData("Url", "https://user:secret@search.example.com/mcp", "carries credentials")]
    [InlineData("Prefix", "has space_", "Prefix 'has space_'")]
    [InlineData("Prefix", "a-prefix-much-longer-than-thirty-two-characters_", "is not 1-32")]
    [InlineData("AllowTools:0", "bad name!", "'bad name!'")]
    [InlineData("DenyTools:0", "*x", "'*x'")]
    [InlineData("Headers:Bad Name", "v", "'Bad Name'")]
    [InlineData("BearerToken", "two words", "BearerToken is empty or has white space")]
    [InlineData("HealthInterval", "00:00:00.500", "HealthInterval must be between")]
    [InlineData("HealthInterval", "00:11:00", "HealthInterval must be between")]
    [InlineData("MaxConcurrentCalls", "0", "MaxConcurrentCalls must be between")]
    public void A_bad_setting_is_refused_naming_its_key(string key, string? value, string reason)
    {
        var options = Bind(("Coordinator:Servers:search:Url", key == "Url" ? value : "https://search.example.com/mcp"), ($"Coordinator:Servers:search:{key}", value));

        var problem = Assert.Single(Validate(options));
        Assert.StartsWith("Coordinator:Servers:search:", problem, StringComparison.Ordinal);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("has.dot")]
    [InlineData("a-name-that-is-longer-than-forty-eight-characters-in-all")]
    public void A_bad_server_name_is_refused(string name)
    {
        var options = Bind(($"Coordinator:Servers:{name}:Url", "https://search.example.com/mcp"));

        Assert.Contains(Validate(options), problem => problem.Contains("a server name is 1-48", StringComparison.Ordinal));
    }

    [Fact]
    public void Allow_and_deny_lists_filter_and_the_prefix_goes_on_and_comes_off()
    {
        var server = new ExternalServerOptions { Prefix = "gh_" };
        server.AllowTools.Add("issue_*");
        server.AllowTools.Add("search");
        server.DenyTools.Add("issue_delete");

        Assert.Equal("gh_issue_create", server.ExposedName("issue_create"));
        Assert.Equal("gh_search", server.ExposedName("search"));
        Assert.Null(server.ExposedName("issue_delete"));
        Assert.Null(server.ExposedName("repo_delete"));
        Assert.Equal("issue_create", server.UpstreamName("gh_issue_create"));
    }

    [Fact]
    public void A_name_that_would_be_too_long_with_the_prefix_is_not_served()
    {
        var server = new ExternalServerOptions { Prefix = "prefix_" };

        Assert.Null(server.ExposedName(new string('t', 125)));
        Assert.NotNull(server.ExposedName(new string('t', 121)));
    }

    [Fact]
    public void Served_tools_are_renamed_sorted_and_put_in_the_servers_pack_whatever_pack_they_claimed()
    {
        var server = new ExternalServerOptions { Prefix = "x_" };
        server.DenyTools.Add("secret");
        Tool[] listed =
        [
            new Tool { Name = "zeta", Description = "Z.", Meta = new JsonObject { [ToolCatalog.PackMetaKey] = "files", ["vendor/extra"] = 1 } },
            new Tool { Name = "alpha", Description = "A.", Annotations = new ToolAnnotations { ReadOnlyHint = true } },
            new Tool { Name = "secret", Description = "S." },
        ];

        var served = ExternalServerMonitor.Served("vendor", server, listed);

        Assert.Equal(["x_alpha", "x_zeta"], served.Select(tool => tool.Name));
        Assert.All(served, tool => Assert.Equal("server.vendor", ToolCatalog.PackOf(tool)));
        Assert.Equal(1, served[1].Meta!["vendor/extra"]!.GetValue<int>());
        Assert.True(served[0].Annotations!.ReadOnlyHint);
        Assert.Equal("zeta", listed[0].Name);
    }

    [Fact]
    public void A_servers_resources_and_prompts_are_served_as_the_registry_takes_them_with_prompts_prefixed()
    {
        var server = new ExternalServerOptions { Prefix = "x_" };

        var catalog = ExternalServerMonitor.ServedPrimitives(
            server,
            [new Resource { Uri = "b://2", Name = "b" }, new Resource { Uri = "a://1", Name = "a" }, new Resource { Uri = "a://1", Name = "again" }, new Resource { Uri = "not a uri", Name = "bad" }],
            [new ResourceTemplate { UriTemplate = "t://{id}", Name = "t" }, new ResourceTemplate { UriTemplate = "t://{broken", Name = "bad" }],
            [new Prompt { Name = "greet", Description = "Hi." }, new Prompt { Name = "has space" }],
            max: 10);
        var content = System.Text.Json.JsonSerializer.Deserialize<PrimitiveCatalog.Content>(catalog.Json.Span, ClusterJson.Options)!;

        Assert.Equal(["a://1", "b://2"], content.Resources.Select(resource => resource.Uri));
        Assert.Equal("a", content.Resources[0].Name);
        Assert.Equal(["t://{id}"], content.ResourceTemplates.Select(template => template.UriTemplate));
        Assert.Equal("x_greet", Assert.Single(content.Prompts).Name);
        Assert.Equal("Hi.", content.Prompts[0].Description);
    }

    [Fact]
    public void Only_the_first_of_too_many_resources_are_served()
    {
        var catalog = ExternalServerMonitor.ServedPrimitives(
            new ExternalServerOptions(), [.. Enumerable.Range(0, 5).Select(i => new Resource { Uri = $"r://{i}", Name = $"r{i}" })], [], [], max: 3);

        Assert.Equal(3, catalog.Count);
    }

    private static ExternalServersOptions Bind(params (string Key, string? Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.DistinctBy(setting => setting.Key).Select(setting => KeyValuePair.Create(setting.Key, setting.Value)))
            .Build();
        var options = new ExternalServersOptions();
        configuration.GetSection(ExternalServersOptions.SectionName).Bind(options);
        return options;
    }

    private static List<string> Validate(ExternalServersOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return [.. results.Select(result => result.ErrorMessage!)];
    }
}
