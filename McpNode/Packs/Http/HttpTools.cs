using System.Collections.Concurrent;
using System.ComponentModel;
using System.Net;
using System.Text.Json;
using McpAspire.McpNode.Services;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Server;
using Polly;
using Polly.CircuitBreaker;

namespace McpAspire.McpNode.Packs.Http;

/// <summary>
/// The <c>http</c> pack: a resilient call to an external service. <c>fetch_json</c> reaches one
/// configured upstream only, through the standard resilience pipeline (retries, timeouts, circuit
/// breaker). When the upstream is down it degrades gracefully: the last good answer for the path,
/// marked stale with its age, or an error that says the upstream is unavailable.
/// </summary>
[McpServerToolType]
public sealed class HttpTools(IHttpClientFactory clients, LastGoodAnswers cache, IOptions<HttpPackOptions> options, TimeProvider time)
{
    /// <summary>The name of the upstream's <see cref="HttpClient"/>.</summary>
    public const string ClientName = "http-pack-upstream";

    /// <summary>Fetches JSON from the configured upstream.</summary>
    [EstimatedDuration("the upstream's latency; up to about 30 s with retries when it struggles")]
    [McpServerTool(Name = "fetch_json", ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = true, UseStructuredContent = true)]
    [Description("GETs a JSON document from the configured upstream service (only that one), at a path under its base URL. " +
        "If the upstream is down, returns the last good answer for the path marked stale, with its age in seconds.")]
    public async Task<FetchResult> FetchJsonAsync(
        [Description("The path under the upstream's base URL, e.g. 'status' or 'items/42?verbose=true'.")] string path,
        CancellationToken cancellationToken = default)
    {
        var target = Resolve(path);
        try
        {
            using var response = await clients.CreateClient(ClientName).GetAsync(target, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if ((int)response.StatusCode is >= 300 and < 400)
            {
                throw new McpException($"The upstream redirected '{path}' ({(int)response.StatusCode}); redirects are not followed, since they could lead outside the upstream.");
            }

            if (!response.IsSuccessStatusCode && !IsUpstreamFailure(response.StatusCode))
            {
                throw new McpException($"The upstream answered {(int)response.StatusCode} {response.ReasonPhrase} for '{path}'.");
            }

            if (response.IsSuccessStatusCode)
            {
                var data = await ReadJsonAsync(response, path, cancellationToken);
                cache.Remember(path, data, time.GetUtcNow());
                return new FetchResult(path, "fresh", 0, data, null);
            }

            return StaleOrUnavailable(path, $"it answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        catch (Exception ex) when (ex is HttpRequestException or ExecutionRejectedException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return StaleOrUnavailable(path, ex is BrokenCircuitException ? "its circuit is open after repeated failures" : ex.Message);
        }
    }

    private FetchResult StaleOrUnavailable(string path, string reason)
    {
        if (cache.TryGet(path, out var data, out var fetchedAt))
        {
            var age = Math.Max(0, (time.GetUtcNow() - fetchedAt).TotalSeconds);
            return new FetchResult(path, "stale", Math.Round(age, 1), data, $"The upstream is unavailable ({reason}); this is the last good answer.");
        }

        throw new McpException($"The upstream is unavailable ({reason}) and there is no earlier answer for '{path}'. Try again later.");
    }

    private Uri Resolve(string path)
    {
        var upstream = options.Value.UpstreamBaseUrl ?? throw new McpException("The http pack has no upstream (HttpPack:UpstreamBaseUrl).");
        if (string.IsNullOrWhiteSpace(path) || path.Length > 2048 || path.Contains("://", StringComparison.Ordinal) || path.StartsWith('/') || path.StartsWith('\\')
            || path.Split('?')[0].Split('/').Any(segment => segment is ".." || segment.Contains('\\', StringComparison.Ordinal) || segment.Contains('%', StringComparison.Ordinal)))
        {
            throw new McpException($"'{path}' is not allowed: give a relative path under the upstream, without '..', '\\', '%' escapes, a scheme or a leading '/'.");
        }

        var baseUrl = upstream.AbsoluteUri.EndsWith('/') ? upstream : new Uri(upstream.AbsoluteUri + "/");
        var target = new Uri(baseUrl, path);
        return target.AbsoluteUri.StartsWith(baseUrl.AbsoluteUri, StringComparison.Ordinal)
            ? target
            : throw new McpException($"'{path}' leads outside the upstream.");
    }

    private async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, string path, CancellationToken cancellationToken)
    {
        var limit = options.Value.MaxResponseBytes;
        if (response.Content.Headers.ContentLength > limit)
        {
            throw new McpException($"The upstream's answer for '{path}' is larger than {limit} bytes (HttpPack:MaxResponseBytes).");
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw new McpException($"The upstream's answer for '{path}' is larger than {limit} bytes (HttpPack:MaxResponseBytes).");
            }

            buffer.Write(chunk, 0, read);
        }

        try
        {
            using var document = JsonDocument.Parse(buffer.ToArray());
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new McpException($"The upstream's answer for '{path}' is not JSON.");
        }
    }

    /// <summary>Statuses that mean the upstream is struggling (worth a stale answer), not that the request was wrong.</summary>
    private static bool IsUpstreamFailure(HttpStatusCode status) => (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
}

/// <summary>The answer of <c>fetch_json</c>.</summary>
/// <param name="Path">The path fetched.</param>
/// <param name="Freshness"><c>fresh</c>, or <c>stale</c> when the upstream is down and this is the last good answer.</param>
/// <param name="AgeSeconds">How old the answer is: 0 when fresh.</param>
/// <param name="Data">The JSON document.</param>
/// <param name="Note">Why the answer is stale, or null.</param>
public sealed record FetchResult(string Path, string Freshness, double AgeSeconds, JsonElement Data, string? Note);

/// <summary>The last good answer per path, kept for graceful degradation; bounded by <see cref="HttpPackOptions.MaxCachedPaths"/>.</summary>
public sealed class LastGoodAnswers(IOptions<HttpPackOptions> options)
{
    private readonly ConcurrentDictionary<string, (JsonElement Data, DateTimeOffset FetchedAt)> _answers = new(StringComparer.Ordinal);

    /// <summary>Keeps an answer, unless the cache is full of other paths.</summary>
    public void Remember(string path, JsonElement data, DateTimeOffset fetchedAt)
    {
        if (_answers.ContainsKey(path) || _answers.Count < options.Value.MaxCachedPaths)
        {
            _answers[path] = (data, fetchedAt);
        }
    }

    /// <summary>The last good answer for a path, if any.</summary>
    public bool TryGet(string path, out JsonElement data, out DateTimeOffset fetchedAt)
    {
        var found = _answers.TryGetValue(path, out var answer);
        (data, fetchedAt) = answer;
        return found;
    }
}
