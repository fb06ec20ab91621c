using System.ComponentModel.DataAnnotations;
using System.Text;
using System.Text.Json;
using McpAspire.Cluster;
using McpAspire.Cluster.Security;
using McpAspire.McpCoordinator.Federation;
using McpAspire.McpCoordinator.Registry;
using McpAspire.McpCoordinator.Routing;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;

namespace McpAspire.UnitTests.Coordinator;

public sealed class RegistryRecordsTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly IOptions<ExternalServersOptions> NoServers = Options.Create(new ExternalServersOptions());

    private static readonly RegistryRecords Records = new(ClusterKeyRing.None, new NodeUrlPolicy(Options.Create(new NodeUrlOptions())), Options.Create(new RegistryOptions()), NoServers);

    private static NodeHeartbeat Valid() => new()
    {
        Id = "node-1",
        McpUrl = new Uri("http://127.0.0.1:5100/mcp"),
        Status = NodeStatus.Ready,
        InFlight = 3,
        MaxConcurrency = 64,
        Version = "1.2.3+abc",
        Packs = ["core", "data"],
        ToolsHash = new string('0', 64),
        ToolCount = 2,
        SentAt = Now.AddSeconds(-1),
        TtlMilliseconds = 6000,
    };

    [Fact]
    public void A_valid_heartbeat_is_read()
    {
        var heartbeat = Records.ReadHeartbeat("node-1", HeartbeatRecord.Write(Valid(), ClusterKeyRing.None), Now, out var problem);

        Assert.Null(problem);
        Assert.Equal(JsonSerializer.Serialize(Valid(), ClusterJson.Options), JsonSerializer.Serialize(heartbeat, ClusterJson.Options));
    }

    public static TheoryData<string, string> Invalid() => new()
    {
        { "id", "not the node of its key" },
        { "status", "neither 'ready' nor 'draining'" },
        { "negative-load", "out of range" },
        { "huge-load", "out of range" },
        { "zero-capacity", "out of range" },
        { "version", "its version is not" },
        { "pack", "its packs are not" },
        { "many-packs", "its packs are not" },
        { "hash", "not a SHA-256" },
        { "tool-count", "declares 1001 tools" },
        { "short-ttl", "TTL of 10 ms" },
        { "long-ttl", "TTL of 86400000 ms" },
        { "future", "in the future" },
        { "calendar-end", "in the future" },
        { "expired", "older than its TTL" },
        { "metadata-url", "link-local or a cloud metadata address" },
        { "file-url", "scheme 'file' is not allowed" },
        { "credentials-url", "credentials in the URL" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void An_invalid_field_rejects_the_heartbeat_saying_why(string field, string reason)
    {
        var heartbeat = field switch
        {
            "id" => Valid() with { Id = "node-2" },
            "status" => Valid() with { Status = "leader" },
            "negative-load" => Valid() with { InFlight = -1 },
            "huge-load" => Valid() with { InFlight = int.MaxValue },
            "zero-capacity" => Valid() with { MaxConcurrency = 0 },
            "version" => Valid() with { Version = "1.0 <script>" },
            "pack" => Valid() with { Packs = ["core", "Ünïcode"] },
            "many-packs" => Valid() with { Packs = [.. Enumerable.Range(0, 65).Select(i => $"p{i}")] },
            "hash" => Valid() with { ToolsHash = "abc" },
            "tool-count" => Valid() with { ToolCount = 1001 },
            "short-ttl" => Valid() with { TtlMilliseconds = 10 },
            "long-ttl" => Valid() with { TtlMilliseconds = 86_400_000 },
            "future" => Valid() with { SentAt = Now.AddMinutes(1) },
            "calendar-end" => Valid() with { SentAt = DateTimeOffset.MaxValue },
            "expired" => Valid() with { SentAt = Now.AddSeconds(-7) },
            "metadata-url" => Valid() with { McpUrl = new Uri("http://169.254.169.254/latest/meta-data") },
            "file-url" => Valid() with { McpUrl = new Uri("file:///etc/passwd") },
            "credentials-url" => Valid() with { McpUrl = new Uri("http://user:pass@127.0.0.1:5100/mcp") },
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };

        Assert.Null(Records.ReadHeartbeat("node-1", HeartbeatRecord.Write(heartbeat, ClusterKeyRing.None), Now, out var problem));
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("node-1", true)]
    [InlineData("a.b_c-D9", true)]
    [InlineData("", false)]
    [InlineData("node 1", false)]
    [InlineData("node\n1", false)]
    [InlineData("nöde", false)]
    public void Node_ids_are_short_plain_names(string id, bool valid) => Assert.Equal(valid, RegistryRecords.IsNodeId(id));

    [Fact]
    public void A_node_id_of_65_characters_is_refused() => Assert.False(RegistryRecords.IsNodeId(new string('n', 65)));

    [Fact]
    public void Valid_tool_definitions_are_read_with_their_json()
    {
        var catalog = ToolCatalog.Of([new Tool { Name = "echo", Description = "Echoes." }, new Tool { Name = "ping.v2" }]);

        var tools = Records.ReadTools(catalog.Hash, catalog.Json.Span, out var problem, out _);

        Assert.Null(problem);
        Assert.Equal(["echo", "ping.v2"], tools!.Tools.Select(tool => tool.Name));
        Assert.Equal("Echoes.", tools.DefinitionOf("echo")!.Value.GetProperty("description").GetString());
        Assert.Null(tools.Find("nope"));
    }

    public static TheoryData<string, string, bool> BadTools() => new()
    {
        { "", "not in the store", false },
        { "[]x", "do not have the hash", false },
        { """[{"name":"echo","inputSchema":{"type":"string"}}]""", "cannot be read", true },
        { """[{"name":"echo","inputSchema":[1,2]}]""", "cannot be read", true },
        { """[{"description":"no name"}]""", "cannot be read", true },
        { """[null]""", "a tool name is not", true },
        { """null""", "JSON null", true },
        { """{"name":"echo"}""", "cannot be read", true },
        { """[{"name":"echo","inputSchema":{"type":"object"}},{"name":"echo","inputSchema":{"type":"object"}}]""", "defines tool 'echo' twice", true },
        { """[{"name":"rm -rf /","inputSchema":{"type":"object"}}]""", "a tool name is not", true },
        { """[{"name":"x","inputSchema":{}}]""", "cannot be read", true },
        { """[{"name":"x","inputSchema":{"type":"object"},"outputSchema":"text"}]""", "cannot be read", true },
    };

    [Theory]
    [MemberData(nameof(BadTools))]
    public void Bad_tool_definitions_are_refused_saying_why_and_whether_reading_again_could_help(string json, string reason, bool lasting)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var hash = json == "[]x" ? ToolCatalog.HashOf("[]"u8) : ToolCatalog.HashOf(bytes);

        Assert.Null(Records.ReadTools(hash, bytes, out var problem, out var isLasting));
        Assert.Contains(reason, problem, StringComparison.Ordinal);
        Assert.Equal(lasting, isLasting);
    }

    [Fact]
    public void Too_many_tools_and_too_many_bytes_are_refused()
    {
        var limits = new RegistryOptions { MaxToolsPerNode = 2, MaxToolsBytes = 4096 };
        var records = new RegistryRecords(ClusterKeyRing.None, new NodeUrlPolicy(Options.Create(new NodeUrlOptions())), Options.Create(limits), NoServers);
        var three = ToolCatalog.Of([.. Enumerable.Range(0, 3).Select(i => new Tool { Name = $"t{i}" })]);
        var large = ToolCatalog.Of([new Tool { Name = "t", Description = new string('d', 5000) }]);

        Assert.Null(records.ReadTools(three.Hash, three.Json.Span, out var tooMany, out _));
        Assert.Null(records.ReadTools(large.Hash, large.Json.Span, out var tooLarge, out _));

        Assert.Contains("defines 3 tools", tooMany, StringComparison.Ordinal);
        Assert.Contains("larger than 4096 bytes", tooLarge, StringComparison.Ordinal);
    }

    [Fact]
    public void A_signed_cluster_refuses_an_unsigned_heartbeat()
    {
        var keys = new ClusterKeyRing([System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)]);
        var records = new RegistryRecords(keys, new NodeUrlPolicy(Options.Create(new NodeUrlOptions())), Options.Create(new RegistryOptions()), NoServers);

        Assert.Null(records.ReadHeartbeat("node-1", HeartbeatRecord.Write(Valid(), ClusterKeyRing.None), Now, out var problem));
        Assert.NotNull(records.ReadHeartbeat("node-1", HeartbeatRecord.Write(Valid(), keys), Now, out _));
        Assert.Contains("not signed", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MaxNodes", 0)]
    [InlineData("MaxHeartbeatBytes", 100)]
    [InlineData("MaxToolsBytes", 100)]
    [InlineData("MaxToolsPerNode", 0)]
    public void Out_of_range_limits_are_refused_naming_their_key(string property, int value)
    {
        var options = new RegistryOptions();
        typeof(RegistryOptions).GetProperty(property)!.SetValue(options, value);
        var results = new List<ValidationResult>();

        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);

        Assert.Contains(results, result => result.ErrorMessage!.Contains($"Coordinator:Registry:{property}", StringComparison.Ordinal));
    }

    [Fact]
    public void A_record_of_a_configured_external_server_at_its_url_is_read_whatever_the_node_url_rules_say()
    {
        var servers = new ExternalServersOptions();
        servers.Servers["tools"] = new ExternalServerOptions { Url = new Uri("https://tools.example.com/mcp") };
        var policy = new NodeUrlOptions();
        policy.AllowedNetworks.Add("10.0.0.0/8");
        var records = new RegistryRecords(ClusterKeyRing.None, new NodeUrlPolicy(Options.Create(policy)), Options.Create(new RegistryOptions()), Options.Create(servers));
        var record = Valid() with { Id = "server.tools", McpUrl = new Uri("https://tools.example.com/mcp"), Server = "tools" };

        Assert.NotNull(records.ReadHeartbeat("server.tools", HeartbeatRecord.Write(record, ClusterKeyRing.None), Now, out var problem));
        Assert.Null(problem);
    }

    [Theory]
    [InlineData("server.elsewhere", "elsewhere", "https://tools.example.com/mcp", "does not have in Coordinator:Servers")]
    [InlineData("server.other", "tools", "https://tools.example.com/mcp", "not 'server.tools'")]
    [InlineData("server.tools", "tools", "http://169.254.169.254/mcp", "not at its configured Url")]
    public void A_server_record_must_name_a_configured_server_under_its_id_at_its_url(string id, string server, string url, string reason)
    {
        var servers = new ExternalServersOptions();
        servers.Servers["tools"] = new ExternalServerOptions { Url = new Uri("https://tools.example.com/mcp") };
        var records = new RegistryRecords(ClusterKeyRing.None, new NodeUrlPolicy(Options.Create(new NodeUrlOptions())), Options.Create(new RegistryOptions()), Options.Create(servers));
        var record = Valid() with { Id = id, McpUrl = new Uri(url), Server = server };

        Assert.Null(records.ReadHeartbeat(id, HeartbeatRecord.Write(record, ClusterKeyRing.None), Now, out var problem));
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_valid_record_of_resources_and_prompts_is_read()
    {
        var catalog = PrimitiveCatalog.Of(
            [new Resource { Uri = "docs://guide", Name = "guide" }],
            [new ResourceTemplate { UriTemplate = "notes://{id}", Name = "note" }],
            [new Prompt { Name = "greet" }]);

        var primitives = Records.ReadPrimitives(catalog.Hash, catalog.Json.Span, out var problem, out _);

        Assert.Null(problem);
        Assert.Equal("docs://guide", Assert.Single(primitives!.Resources).Uri);
        Assert.NotNull(primitives.PromptDefinition("greet"));
    }

    public static TheoryData<string, string> InvalidPrimitives() => new()
    {
        { """{"resources":[{"uri":"not a uri","name":"x"}],"resourceTemplates":[],"prompts":[]}""", "resource URI is missing or not valid" },
        { """{"resources":[{"uri":"a://b","name":"x"},{"uri":"a://b","name":"y"}],"resourceTemplates":[],"prompts":[]}""", "resource URI 'a://b' twice" },
        { """{"resources":[],"resourceTemplates":[{"uriTemplate":"a://{b","name":"x"}],"prompts":[]}""", "resource template is missing or not valid" },
        { """{"resources":[],"resourceTemplates":[],"prompts":[{"name":"has space"}]}""", "prompt name is missing or not valid" },
        { """{"resources":null,"resourceTemplates":[],"prompts":[]}""", "JSON null" },
        { "null", "JSON null" },
        { "[1,2]", "cannot be read" },
    };

    [Theory]
    [MemberData(nameof(InvalidPrimitives))]
    public void A_bad_record_of_resources_and_prompts_is_refused_for_good(string json, string reason)
    {
        var bytes = Encoding.UTF8.GetBytes(json);

        Assert.Null(Records.ReadPrimitives(ToolCatalog.HashOf(bytes), bytes, out var problem, out var lasting));
        Assert.Contains(reason, problem, StringComparison.Ordinal);
        Assert.True(lasting);
    }

    [Fact]
    public void Too_many_or_too_large_resources_and_prompts_are_refused()
    {
        var limits = new RegistryOptions { MaxPrimitivesPerNode = 2, MaxPrimitivesBytes = 2048 };
        var records = new RegistryRecords(ClusterKeyRing.None, new NodeUrlPolicy(Options.Create(new NodeUrlOptions())), Options.Create(limits), NoServers);
        var three = PrimitiveCatalog.Of([], [], [.. Enumerable.Range(0, 3).Select(i => new Prompt { Name = $"p{i}" })]);
        var large = PrimitiveCatalog.Of([new Resource { Uri = "a://b", Name = "b", Description = new string('d', 3000) }], [], []);

        Assert.Null(records.ReadPrimitives(three.Hash, three.Json.Span, out var tooMany, out _));
        Assert.Null(records.ReadPrimitives(large.Hash, large.Json.Span, out var tooLarge, out _));
        Assert.Null(records.ReadPrimitives(three.Hash, PrimitiveCatalog.Of([], [], []).Json.Span, out var otherHash, out var lasting));

        Assert.Contains("more than 2 resources, templates or prompts", tooMany, StringComparison.Ordinal);
        Assert.Contains("larger than 2048 bytes", tooLarge, StringComparison.Ordinal);
        Assert.Contains("do not have the hash", otherHash, StringComparison.Ordinal);
        Assert.False(lasting);
    }
}
