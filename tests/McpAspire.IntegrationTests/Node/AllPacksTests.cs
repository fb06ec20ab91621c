using System.Text.Json;
using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.McpNode;
using McpAspire.McpNode.Packs;
using McpAspire.McpNode.Packs.Stdio;

namespace McpAspire.IntegrationTests.Node;

/// <summary>
/// A node with every pack of ours on (not <c>stdio</c>, whose tools are a third party's): each tool is described, its
/// parameters are described, and its annotations are all set.
/// </summary>
public sealed class AllPacksTests : IClassFixture<AllPacksTests.EveryPackNode>
{
    private readonly ServiceHost<NodeOptions> _node;

    public AllPacksTests(EveryPackNode fixture) => _node = fixture.Host;

    public sealed class EveryPackNode() : NodeFixture(
        ("Node:Packs", string.Join(",", ToolPacks.Names.Where(name => name != StdioPack.Name))),
        ("Mcp:Stateless", "false"),
        ("Files:Roots:0:Name", "temp"),
        ("Files:Roots:0:Path", Path.GetTempPath()),
        ("HttpPack:UpstreamBaseUrl", "http://127.0.0.1:9/"));

    [Fact]
    public async Task Every_tool_has_a_description_described_parameters_and_all_four_annotations()
    {
        await using var client = await OfficialClient.ConnectAsync(_node.McpUrl);

        var tools = await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);

        // core 2, data 1, files 4, http 1, transactions 1, conformance 13.
        Assert.Equal(22, tools.Count);
        Assert.All(tools.Select(tool => tool.ProtocolTool), tool =>
        {
            Assert.False(string.IsNullOrWhiteSpace(tool.Description), $"{tool.Name} has no description.");
            Assert.True(tool.Annotations is { ReadOnlyHint: not null, DestructiveHint: not null, IdempotentHint: not null, OpenWorldHint: not null },
                $"{tool.Name} does not set all four annotations.");
            Assert.Equal("object", tool.InputSchema.GetProperty("type").GetString());
            Assert.Empty(UndescribedProperties(tool.InputSchema, tool.Name));
        });
    }

    /// <summary>Every property, at any depth, that has no description.</summary>
    private static IEnumerable<string> UndescribedProperties(JsonElement schema, string path)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            yield break;
        }

        if (schema.TryGetProperty("properties", out var properties))
        {
            foreach (var property in properties.EnumerateObject())
            {
                if (!property.Value.TryGetProperty("description", out var description) || string.IsNullOrWhiteSpace(description.GetString()))
                {
                    yield return $"{path}.{property.Name}";
                }

                foreach (var nested in UndescribedProperties(property.Value, $"{path}.{property.Name}"))
                {
                    yield return nested;
                }
            }
        }

        if (schema.TryGetProperty("items", out var items))
        {
            foreach (var nested in UndescribedProperties(items, $"{path}[]"))
            {
                yield return nested;
            }
        }
    }
}
