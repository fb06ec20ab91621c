using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text.Json.Nodes;
using McpAspire.Cluster;
using McpAspire.McpCoordinator.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;

namespace McpAspire.UnitTests.Coordinator;

public sealed class CallerAccessTests
{
    private static Caller Signed(string subject, string[]? scopes = null, string[]? roles = null, string scopeClaim = "scope")
    {
        var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, subject, ClaimValueTypes.String, "https://issuer.example") };
        if (scopes is not null)
        {
            claims.Add(new Claim(scopeClaim, string.Join(' ', scopes)));
        }

        claims.AddRange((roles ?? []).Select(role => new Claim(ClaimTypes.Role, role)));
        return Caller.Read(new ClaimsPrincipal(new ClaimsIdentity(claims, "test")), "10.0.0.1");
    }

    private static Tool InPack(string name, string? pack) => new()
    {
        Name = name,
        Meta = pack is null ? null : new JsonObject { [ToolCatalog.PackMetaKey] = pack },
    };

    private static ToolAccess Access(bool enabled, Action<AccessOptions>? configure = null)
    {
        var options = new AccessOptions();
        configure?.Invoke(options);
        return new ToolAccess(Options.Create(options), enabled);
    }

    private static ToolRule Rule(string[]? scopes = null, string[]? roles = null, string[]? tools = null, string[]? packs = null)
    {
        var rule = new ToolRule();
        rule.Scopes.AddRange(scopes ?? []);
        rule.Roles.AddRange(roles ?? []);
        rule.Tools.AddRange(tools ?? []);
        rule.Packs.AddRange(packs ?? []);
        return rule;
    }

    [Fact]
    public void Scopes_come_from_scope_and_scp_claims_and_roles_from_role_claims()
    {
        var oauth = Signed("a", ["tools.read", "payments"]);
        var entra = Signed("b", ["Files.Read"], ["McpAspire.Admin"], scopeClaim: "http://schemas.microsoft.com/identity/claims/scope");

        Assert.Equal(["payments", "tools.read"], oauth.Scopes.Order(StringComparer.Ordinal));
        Assert.Equal("https://issuer.example|a", oauth.Key);
        Assert.Equal(["Files.Read"], entra.Scopes);
        Assert.Equal(["McpAspire.Admin"], entra.Roles);
    }

    [Fact]
    public void An_anonymous_caller_is_known_by_address_and_an_authenticated_one_without_a_subject_is_anonymous()
    {
        var anonymous = Caller.Read(new ClaimsPrincipal(new ClaimsIdentity()), "10.0.0.9");
        var noSubject = Caller.Read(new ClaimsPrincipal(new ClaimsIdentity([new Claim("scope", "tools.read")], "test")), "10.0.0.9");

        Assert.Equal(("ip:10.0.0.9", false, "anonymous@10.0.0.9"), (anonymous.Key, anonymous.IsAuthenticated, anonymous.DisplayName));
        Assert.False(noSubject.IsAuthenticated);
        Assert.Empty(noSubject.Scopes);
    }

    [Fact]
    public void Without_authentication_everyone_may_call_everything_and_is_an_admin()
    {
        var access = Access(enabled: false, options => options.Rules["none"] = Rule(scopes: ["x"], tools: ["echo"]));
        var anonymous = Caller.Read(new ClaimsPrincipal(new ClaimsIdentity()), "127.0.0.1");

        Assert.True(access.MayCall(anonymous, InPack("write_file", "files")));
        Assert.True(access.IsAdmin(anonymous));
    }

    [Fact]
    public void Without_rules_every_authenticated_caller_may_call_every_tool_and_admins_need_the_scope_or_role()
    {
        var access = Access(enabled: true);

        Assert.False(access.HasRules);
        Assert.True(access.MayCall(Signed("a"), InPack("write_file", "files")));
        Assert.False(access.IsAdmin(Signed("a", ["tools.read"])));
        Assert.True(access.IsAdmin(Signed("a", ["mcpaspire.admin"])));
        Assert.True(access.IsAdmin(Signed("a", roles: ["McpAspire.Admin"])));
        Assert.Equal(["mcpaspire.admin"], access.Scopes);
    }

    [Fact]
    public void A_rule_grants_names_prefixes_and_packs_to_the_callers_it_applies_to()
    {
        var access = Access(enabled: true, options =>
        {
            options.Rules["readers"] = Rule(scopes: ["tools.read"], tools: ["echo", "get_*"]);
            options.Rules["archivists"] = Rule(roles: ["Archivist"], packs: ["files"]);
            options.Rules["everyone"] = Rule(tools: ["ping_*"]);
        });
        var reader = Signed("r", ["tools.read"]);
        var archivist = Signed("f", roles: ["Archivist"]);

        Assert.True(access.MayCall(reader, InPack("echo", "core")));
        Assert.True(access.MayCall(reader, InPack("get_capabilities", "core")));
        Assert.False(access.MayCall(reader, InPack("echoes", "core")));
        Assert.False(access.MayCall(reader, InPack("read_file", "files")));
        Assert.True(access.MayCall(archivist, InPack("read_file", "files")));
        Assert.False(access.MayCall(archivist, InPack("read_file", pack: null)));
        Assert.False(access.MayCall(archivist, "read_file", tool: null));
        Assert.True(access.MayCall(archivist, InPack("ping_pong", null)));
        Assert.False(access.MayCall(Caller.Read(new ClaimsPrincipal(new ClaimsIdentity()), "x"), InPack("ping_pong", null)));
        Assert.Equal(["mcpaspire.admin", "tools.read"], access.Scopes);
    }

    [Theory]
    [InlineData("echo", true)]
    [InlineData("get_*", true)]
    [InlineData("*", true)]
    [InlineData("**", false)]
    [InlineData("bad name", false)]
    [InlineData("", false)]
    public void A_rule_tool_is_a_name_or_a_prefix_ending_in_a_star(string pattern, bool valid)
    {
        var options = new AccessOptions();
        options.Rules["r"] = Rule(scopes: ["s"], tools: [pattern]);
        var results = new List<ValidationResult>();

        Assert.Equal(valid, Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
    }

    [Fact]
    public void A_rule_that_grants_nothing_is_refused_naming_it()
    {
        var options = new AccessOptions();
        options.Rules["empty"] = Rule(scopes: ["s"]);

        var result = Assert.Single(options.Validate(new ValidationContext(options)));
        Assert.Contains("Coordinator:Authorization:Rules:empty grants nothing", result.ErrorMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("X-API-Key", "the-key", "the-key")]
    [InlineData("Authorization", "Bearer the-key", "the-key")]
    [InlineData("Authorization", "bearer   the-key ", "the-key")]
    [InlineData("Authorization", "Bearer aaa.bbb.ccc", null)]
    [InlineData("Authorization", "Basic dXNlcjpwdw==", null)]
    [InlineData("X-Other", "the-key", null)]
    public void An_api_key_is_read_from_its_header_or_a_bearer_value_that_is_not_a_jwt(string header, string value, string? key)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers[header] = value;

        Assert.Equal(key, ApiKeyHandler.PresentedKey(context.Request));
    }

    [Theory]
    [InlineData("http://127.0.0.1:5080", true)]
    [InlineData("http://localhost:5080", true)]
    [InlineData("https://[::1]:5081/", true)]
    [InlineData("http://0.0.0.0:5080", false)]
    [InlineData("http://+:80", false)]
    [InlineData("http://*:80", false)]
    [InlineData("http://[::]:80", false)]
    [InlineData("http://mcp.contoso.com:80", false)]
    [InlineData("http://10.1.2.3:80", false)]
    public void A_listen_url_is_loopback_only_for_localhost_and_loopback_addresses(string url, bool loopback) =>
        Assert.Equal(loopback, ListenAddresses.IsLoopback(url));

    [Theory]
    [InlineData(null, null, null, null)]
    [InlineData("http://127.0.0.1:5080;http://localhost:5081", null, null, null)]
    [InlineData("http://127.0.0.1:5080;http://0.0.0.0:5081", null, null, "http://0.0.0.0:5081")]
    [InlineData(null, "8080", null, "every interface, port 8080 (http_ports)")]
    [InlineData(null, null, "http://*:9000", "http://*:9000")]
    public void The_first_address_beyond_loopback_comes_from_urls_ports_or_kestrel_endpoints(string? urls, string? ports, string? endpoint, string? expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["urls"] = urls,
            ["http_ports"] = ports,
            ["Kestrel:Endpoints:Http:Url"] = endpoint,
        }).Build();

        Assert.Equal(expected, ListenAddresses.FirstBeyondLoopback(configuration));
    }

    [Fact]
    public void Rate_limits_on_unknown_tool_names_or_of_zero_are_refused_naming_the_key()
    {
        var options = new RateLimitOptions();
        options.Tools["bad name"] = new ToolRateLimit { CallsPerSecond = 1 };
        options.Tools["echo"] = new ToolRateLimit { CallsPerSecond = 0 };

        var results = options.Validate(new ValidationContext(options)).Select(result => result.ErrorMessage).ToArray();

        Assert.Contains(results, message => message!.Contains("Coordinator:RateLimits:Tools:bad name does not name a tool", StringComparison.Ordinal));
        Assert.Contains(results, message => message!.Contains("Coordinator:RateLimits:Tools:echo:CallsPerSecond", StringComparison.Ordinal));
    }
}
