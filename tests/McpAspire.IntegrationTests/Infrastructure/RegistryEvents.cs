using System.Text.Json.Nodes;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>Reads the coordinator's <c>/api/events</c> stream.</summary>
public static class RegistryEvents
{
    /// <summary>The data of the next event of <paramref name="type"/>, skipping others; fails after 15 s without one.</summary>
    public static async Task<JsonNode> NextAsync(StreamReader reader, string type)
    {
        ArgumentNullException.ThrowIfNull(reader);
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        patience.CancelAfter(TimeSpan.FromSeconds(15));
        string? current = null;
        while (await reader.ReadLineAsync(patience.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                current = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && current == type)
            {
                return JsonNode.Parse(line["data: ".Length..])!;
            }
        }

        throw new InvalidOperationException($"The event stream ended before a '{type}' event.");
    }
}
