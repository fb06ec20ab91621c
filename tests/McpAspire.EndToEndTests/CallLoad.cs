using System.Collections.Concurrent;
using System.Net;

namespace McpAspire.EndToEndTests;

/// <summary>Clients that call a tool without pause while a script breaks things, and what became of every call.</summary>
internal static class CallLoad
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>
    /// Runs <paramref name="clients"/> callers until <paramref name="script"/> completes, each sending its next call
    /// as soon as the last is answered. A call fails unless it gets HTTP 200 with a result containing the expected text.
    /// </summary>
    public static async Task<LoadResult> RunAsync(Uri url, int clients, Func<int, int, (string Body, string Expected)> call, Func<Task> script)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var failures = new ConcurrentQueue<string>();
        var succeeded = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Cancel);

        async Task CallerAsync(int client)
        {
            for (var n = 1; !stop.IsCancellationRequested; n++)
            {
                var (body, expected) = call(client, n);
                using var request = McpPost.To(url, body);
                try
                {
                    using var response = await http.SendAsync(request, Cancel);
                    var text = await response.Content.ReadAsStringAsync(Cancel);
                    if (response.StatusCode == HttpStatusCode.OK && text.Contains(expected, StringComparison.Ordinal) && !text.Contains("\"isError\":true", StringComparison.Ordinal))
                    {
                        Interlocked.Increment(ref succeeded);
                    }
                    else
                    {
                        failures.Enqueue($"client {client} call {n}: HTTP {(int)response.StatusCode} {text}");
                    }
                }
                catch (HttpRequestException ex)
                {
                    failures.Enqueue($"client {client} call {n}: {ex.Message}");
                }
            }
        }

        var callers = Enumerable.Range(1, clients).Select(client => Task.Run(() => CallerAsync(client), Cancel)).ToArray();
        try
        {
            await script();
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(callers);
        }

        return new LoadResult(Volatile.Read(ref succeeded), [.. failures]);
    }

    /// <summary>A script that runs <paramref name="action"/> halfway through <paramref name="duration"/>.</summary>
    public static Func<Task> AtHalfTime(TimeSpan duration, Func<Task> action) => async () =>
    {
        await Task.Delay(duration / 2, Cancel);
        await action();
        await Task.Delay(duration / 2, Cancel);
    };

    /// <summary>The <paramref name="call"/>th echo of <paramref name="client"/>, and the text its answer must hold.</summary>
    public static (string Body, string Expected) Echo(int client, int call)
    {
        var message = $"client {client} call {call}";
        return (ToolCall(call, "echo", $$"""{"message":"{{message}}"}"""), $"\"text\":\"{message}\"");
    }

    public static string ToolCall(int id, string tool, string arguments) =>
        $$$"""{"jsonrpc":"2.0","id":{{{id}}},"method":"tools/call","params":{"name":"{{{tool}}}","arguments":{{{arguments}}}}}""";
}

/// <summary>How many calls succeeded, and how each failed one failed.</summary>
internal sealed record LoadResult(int Succeeded, IReadOnlyList<string> Failures);
