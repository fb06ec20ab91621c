using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpAspire.McpNode.Packs.Conformance;

/// <summary>
/// What the <c>conformance</c> pack adds besides tools: its resources and prompts, argument completion,
/// and resource subscriptions. It needs a stateful endpoint (<c>Mcp:Stateless=false</c>): its sampling
/// and elicitation tools send requests back to the client within the session.
/// </summary>
public static class ConformancePack
{
    /// <summary>The values <c>completion/complete</c> offers for both arguments of <see cref="ConformancePrompts.WithArgumentsName"/>.</summary>
    public static IReadOnlyList<string> ArgumentSuggestions { get; } = ["hello", "help", "world"];

    // Subscriptions live as long as the session's server: when the session ends, they go with it.
    private static readonly ConditionalWeakTable<McpServer, ConcurrentDictionary<string, byte>> Subscriptions = [];

    /// <summary>Adds the pack's resources, prompts, completion and subscription handlers to the server.</summary>
    public static IMcpServerBuilder AddConformancePack(this IMcpServerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder
            .WithTools([ConformanceTools.JsonSchema2020Tool()])
            .WithResources<ConformanceResources>()
            .WithPrompts<ConformancePrompts>()
            .WithCompleteHandler((context, _) => ValueTask.FromResult(Complete(context.Params)))
            .WithSubscribeToResourcesHandler((context, _) => ValueTask.FromResult(Subscribe(context)))
            .WithUnsubscribeFromResourcesHandler((context, _) => ValueTask.FromResult(Unsubscribe(context)));
    }

    /// <summary>The resource URIs the session of <paramref name="server"/> is subscribed to.</summary>
    public static IReadOnlyCollection<string> SubscriptionsOf(McpServer server) =>
        Subscriptions.TryGetValue(server, out var uris) ? [.. uris.Keys] : [];

    /// <summary>Suggests values for the arguments of <see cref="ConformancePrompts.WithArgumentsName"/>: those that start with what was typed.</summary>
    public static CompleteResult Complete(CompleteRequestParams? request)
    {
        var values = request is { Ref: PromptReference { Name: ConformancePrompts.WithArgumentsName }, Argument.Name: "arg1" or "arg2" }
            ? ArgumentSuggestions.Where(value => value.StartsWith(request.Argument.Value ?? string.Empty, StringComparison.Ordinal)).ToList()
            : [];
        return new CompleteResult { Completion = new Completion { Values = values, Total = values.Count, HasMore = false } };
    }

    private static EmptyResult Subscribe(RequestContext<SubscribeRequestParams> context)
    {
        var uri = KnownUri(context.Server, context.Params?.Uri);
        Subscriptions.GetValue(context.Server, _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal)).TryAdd(uri, 0);
        return new EmptyResult();
    }

    private static EmptyResult Unsubscribe(RequestContext<UnsubscribeRequestParams> context)
    {
        var uri = KnownUri(context.Server, context.Params?.Uri);
        if (Subscriptions.TryGetValue(context.Server, out var uris))
        {
            uris.TryRemove(uri, out _);
        }

        return new EmptyResult();
    }

    private static string KnownUri(McpServer server, string? uri)
    {
        if (string.IsNullOrEmpty(uri))
        {
            throw new McpProtocolException("Missing 'uri': name the resource to (un)subscribe.", McpErrorCode.InvalidParams);
        }

        if (server.ServerOptions.ResourceCollection?.Any(resource => resource.IsMatch(uri)) != true)
        {
            throw new McpProtocolException($"Resource not found: no resource or template matches '{uri}'.", McpErrorCode.ResourceNotFound);
        }

        return uri;
    }
}
