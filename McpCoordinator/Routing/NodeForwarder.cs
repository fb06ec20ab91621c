using System.Net.Http.Headers;
using McpAspire.McpCoordinator.Registry;
using McpAspire.ServiceDefaults.Mcp;

namespace McpAspire.McpCoordinator.Routing;

/// <summary>
/// Forwards one MCP POST to a node and streams the node's answer to the client as it arrives, without
/// buffering, so progress notifications reach the client while the tool runs. A client disconnect
/// aborts the upstream request, which cancels the tool on the node.
/// </summary>
public sealed class NodeForwarder(IHttpClientFactory httpClients)
{
    /// <summary>The name of the pooled <see cref="HttpClient"/> for node traffic.</summary>
    public const string HttpClientName = "mcp-nodes";

    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    /// <summary>Sends the request's exact body to the node and copies the response to the client.</summary>
    public async Task<ForwardOutcome> ForwardAsync(HttpContext context, McpHttpRequest request, RegisteredNode node)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(node);
        using var upstream = new HttpRequestMessage(HttpMethod.Post, node.Heartbeat.McpUrl)
        {
            Content = new ReadOnlyMemoryContent(request.Body),
        };
        upstream.Content.Headers.ContentType = JsonContentType;
        upstream.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        upstream.Headers.TryAddWithoutValidation(McpProtocol.ProtocolVersionHeader, request.ProtocolVersion);
        foreach (var header in (ReadOnlySpan<string>)[McpProtocol.MethodHeader, McpProtocol.NameHeader])
        {
            // The reader checked they match the body; a 2026-07-28 node requires them.
            if (context.Request.Headers[header] is { Count: 1 } value)
            {
                upstream.Headers.TryAddWithoutValidation(header, value.ToString());
            }
        }

        HttpResponseMessage response;
        try
        {
            response = await httpClients.CreateClient(HttpClientName)
                .SendAsync(upstream, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (HttpRequestException ex) when (ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError)
        {
            return ForwardOutcome.NotConnected(ex.Message);
        }
        catch (OperationCanceledException ex) when (!context.RequestAborted.IsCancellationRequested && ex.InnerException is TimeoutException)
        {
            // The connect timeout: nothing was sent.
            return ForwardOutcome.NotConnected("connecting timed out");
        }
        catch (HttpRequestException ex)
        {
            return ForwardOutcome.FailedAfterSend(ex.Message);
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (string.Equals(mediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                McpHttpResponses.PrepareEventStream(context.Response);
            }
            else if (response.Content.Headers.ContentType is { } contentType)
            {
                context.Response.ContentType = contentType.ToString();
            }

            try
            {
                await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException && !context.RequestAborted.IsCancellationRequested)
            {
                // Some bytes may have reached the client already; all that is left is to end the stream.
                return ForwardOutcome.BrokenMidStream(ex.Message);
            }
        }

        return ForwardOutcome.Forwarded;
    }
}

/// <summary>How a forward ended.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Reason">The error, when there was one.</param>
public sealed record ForwardOutcome(ForwardOutcomeKind Kind, string? Reason = null)
{
    /// <summary>The node's answer was streamed to the client.</summary>
    public static ForwardOutcome Forwarded { get; } = new(ForwardOutcomeKind.Forwarded);

    /// <summary>The node could not be reached; the request was never sent, so another node may take it.</summary>
    public static ForwardOutcome NotConnected(string reason) => new(ForwardOutcomeKind.NotConnected, reason);

    /// <summary>The request was sent, but no answer came: the tool may or may not have run.</summary>
    public static ForwardOutcome FailedAfterSend(string reason) => new(ForwardOutcomeKind.FailedAfterSend, reason);

    /// <summary>The answer broke off after it had started reaching the client.</summary>
    public static ForwardOutcome BrokenMidStream(string reason) => new(ForwardOutcomeKind.BrokenMidStream, reason);
}

/// <summary>The kinds of <see cref="ForwardOutcome"/>.</summary>
public enum ForwardOutcomeKind
{
    /// <summary>See <see cref="ForwardOutcome.Forwarded"/>.</summary>
    Forwarded,

    /// <summary>See <see cref="ForwardOutcome.NotConnected"/>.</summary>
    NotConnected,

    /// <summary>See <see cref="ForwardOutcome.FailedAfterSend"/>.</summary>
    FailedAfterSend,

    /// <summary>See <see cref="ForwardOutcome.BrokenMidStream"/>.</summary>
    BrokenMidStream,
}
