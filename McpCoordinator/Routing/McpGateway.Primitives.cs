using McpAspire.Mcp;
using McpAspire.McpCoordinator.Registry;
using ModelContextProtocol.Protocol;

namespace McpAspire.McpCoordinator.Routing;

/// <summary>
/// Resources, resource templates, prompts and completion through the stateless coordinator. The lists are the
/// registry's unions over the nodes and external servers, paged like <c>tools/list</c>. <c>resources/read</c> goes
/// to a node that lists the URI, or else whose template takes it; <c>prompts/get</c> to a node with the prompt;
/// <c>completion/complete</c> to a node with the prompt or template its <c>ref</c> names. These requests change
/// nothing, so a failed one is tried on another node whenever none of its answer has reached the client.
/// </summary>
public sealed partial class McpGateway
{
    /// <summary>
    /// The longest URI a <c>resources/read</c> may name: matching one against every template costs time in proportion
    /// to its length, and no listed resource is longer than 2048 characters.
    /// </summary>
    public const int MaxReadUriLength = 8192;

    private Task ListPrimitivesAsync(HttpContext context, JsonRpcRequest rpc, bool perRequest)
    {
        var snapshot = registry.Current;
        TimeSpan? ttl = perRequest ? TimeSpan.Zero : null;
        CacheScope? scope = perRequest ? CacheScope.Private : null;
        return rpc.Method switch
        {
            RequestMethods.ResourcesList => ListPageAsync(context, rpc, "resources", snapshot.Resources, resource => resource.Uri,
                (page, next) => new ListResourcesResult { Resources = page, NextCursor = next, TimeToLive = ttl, CacheScope = scope }),
            RequestMethods.ResourcesTemplatesList => ListPageAsync(context, rpc, "templates", snapshot.ResourceTemplates, template => template.UriTemplate,
                (page, next) => new ListResourceTemplatesResult { ResourceTemplates = page, NextCursor = next, TimeToLive = ttl, CacheScope = scope }),
            _ => ListPageAsync(context, rpc, "prompts", snapshot.Prompts, prompt => prompt.Name,
                (page, next) => new ListPromptsResult { Prompts = page, NextCursor = next, TimeToLive = ttl, CacheScope = scope }),
        };
    }

    /// <summary>Sends a <c>resources/read</c>, <c>prompts/get</c> or <c>completion/complete</c> to a node that has what it names.</summary>
    private async Task ForwardPrimitiveAsync(HttpContext context, McpHttpRequest request, JsonRpcRequest rpc, bool perRequest)
    {
        if (Target(rpc) is not var (what, offering))
        {
            await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status200OK, McpErrorCodes.InvalidParams,
                rpc.Method switch
                {
                    RequestMethods.ResourcesRead => $"Invalid params: resources/read needs params.uri, a string of at most {MaxReadUriLength} characters.",
                    RequestMethods.PromptsGet => "Invalid params: prompts/get needs params.name, a string.",
                    _ => "Invalid params: completion/complete needs params.ref: {type: 'ref/prompt', name} or {type: 'ref/resource', uri}.",
                },
                rpc.Id);
            return;
        }

        var tried = new HashSet<string>(StringComparer.Ordinal);
        var failures = new List<ForwardOutcome>();
        var route = RouteDecision.Unknown;
        for (var attempt = 1; attempt <= options.Value.MaxAttempts; attempt++)
        {
            var snapshot = registry.Current;
            route = router.Select(snapshot, offering(snapshot), tried);
            if (route.Node is not { } node)
            {
                break;
            }

            tried.Add(node.Id);
            var outcome = await ForwardTracedAsync(context, request, rpc.Method, toolName: null, node, NodeRequest.Post(request, mayTryElsewhere: true), guarded: true);
            if (outcome.Kind == ForwardOutcomeKind.Forwarded)
            {
                return;
            }

            if (context.Response.HasStarted)
            {
                // Part of the answer went out and nothing can complete it.
                context.Abort();
                return;
            }

            failures.Add(outcome with { Reason = $"node {node.Id}: {outcome.Reason}" });
            context.Response.Clear();
        }

        if (route.OfferingNodes == 0 && failures.Count == 0)
        {
            await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status200OK,
                rpc.Method == RequestMethods.ResourcesRead && !perRequest ? McpErrorCodes.ResourceNotFound : McpErrorCodes.InvalidParams,
                $"{what} is not known: no live node or server offers it. {ListHint(rpc.Method)}", rpc.Id);
            return;
        }

        var tries = string.Join("; ", failures.Select(failure => failure.Reason));
        if (failures.Count > 0 && failures.All(failure => failure.Kind == ForwardOutcomeKind.Refused))
        {
            await McpHttpResponses.WriteOverloadedAsync(context, $"every node offering {what} that was tried refused the request ({tries}).", failures.Max(failure => failure.RetryAfter), rpc.Id);
            return;
        }

        await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status200OK, McpErrorCodes.ServerError,
            failures.Count == 0
                ? $"{what} is unavailable: all {route.OfferingNodes} node(s) offering it are draining or unavailable, or their circuit breakers are open. Retry later."
                : $"{what} is unavailable: {failures.Count} node(s) tried and none answered ({tries}). Retry later.",
            rpc.Id);
    }

    /// <summary>
    /// What <paramref name="rpc"/> names, for messages, and how to find the nodes that have it; <see langword="null"/>
    /// when its params do not name anything.
    /// </summary>
    private static (string What, Func<RegistrySnapshot, IReadOnlyList<RegisteredNode>> Offering)? Target(JsonRpcRequest rpc)
    {
        switch (rpc.Method)
        {
            case RequestMethods.ResourcesRead when McpParams.TryGetString(rpc.Params, out var uri, "uri") && uri.Length <= MaxReadUriLength:
                return ($"Resource '{uri}'", snapshot => snapshot.NodesReading(uri));
            case RequestMethods.PromptsGet when McpParams.TryGetString(rpc.Params, out var name, "name"):
                return ($"Prompt '{name}'", snapshot => snapshot.NodesWithPrompt(name));
            case RequestMethods.CompletionComplete when McpParams.TryGetString(rpc.Params, out var type, "ref", "type"):
                if (type == "ref/prompt" && McpParams.TryGetString(rpc.Params, out var prompt, "ref", "name"))
                {
                    return ($"Prompt '{prompt}'", snapshot => snapshot.NodesWithPrompt(prompt));
                }

                if (type == "ref/resource" && McpParams.TryGetString(rpc.Params, out var template, "ref", "uri"))
                {
                    return ($"Resource template '{template}'", snapshot => snapshot.NodesWithTemplate(template));
                }

                return null;
            default:
                return null;
        }
    }

    private static string ListHint(string method) => method switch
    {
        RequestMethods.ResourcesRead => "resources/list and resources/templates/list show what can be read now.",
        RequestMethods.PromptsGet => "prompts/list shows the prompts available now.",
        _ => "prompts/list and resources/templates/list show what can be completed now.",
    };
}
