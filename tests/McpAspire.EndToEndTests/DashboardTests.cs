using System.Diagnostics;
using System.Globalization;
using Microsoft.Playwright;

namespace McpAspire.EndToEndTests;

/// <summary>
/// The Aspire dashboard as a user sees it, in Debian's Chromium driven by Playwright: every resource running
/// and healthy, and one tool call's trace with spans from both the coordinator and the node that ran it, from the
/// real instrumentation: ASP.NET Core, HttpClient, MCP, and the Redis commands of the transfer's idempotency.
/// Screenshots are kept under the test output (<c>TestResults/dashboard-*.png</c>).
/// </summary>
public sealed class DashboardTests
{
    private const string Chromium = "/usr/bin/chromium";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_dashboard_shows_every_resource_healthy_and_a_tool_calls_trace_across_coordinator_and_node()
    {
        ProcessProbe.RequireProgram("chromium", "apt-get install chromium");
        await using var appHost = AppHostRun.Start(
            Repository.Root,
            ["--nodes", "2", "--coordinator-port", AppHostRun.FreePort().ToString(CultureInfo.InvariantCulture)],
            path: null,
            launchProfile: false,
            new Dictionary<string, string> { ["Node__Packs"] = "core,transactions" });
        var mcpUrl = new Uri(await appHost.WaitForLineAsync(AppHostRun.McpUrlLine(), TimeSpan.FromMinutes(3)));
        var login = await appHost.WaitForLineAsync(AppHostRun.DashboardLoginLine(), TimeSpan.FromSeconds(30));
        var trace = await TransferInATraceAsync(mcpUrl);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1600, Height = 1000 } });
        page.SetDefaultTimeout(60_000);

        // The login link sets the dashboard's cookie and lands on the resources page, which Blazor renders after load.
        await page.GotoAsync(login);
        string[] resources = ["redis", "coordinator", "node-1", "node-2"];
        await WaitForTextAsync(page, text => resources.All(text.Contains) && Count(text, "Running") >= resources.Length && !text.Contains("Unhealthy", StringComparison.Ordinal)
            && !text.Contains("Starting", StringComparison.Ordinal) && !text.Contains("Waiting", StringComparison.Ordinal));
        await page.ScreenshotAsync(new() { Path = Artifact("dashboard-resources.png"), FullPage = true });

        await page.GotoAsync(new Uri(new Uri(login), $"/traces/detail/{trace}").ToString());
        // Span names: the MCP spans, ASP.NET Core's "POST /mcp" on both services, HttpClient's "POST" from the
        // coordinator, and the Redis commands (SET for the claim, EVALSHA or EVAL for the commit), which the
        // instrumentation reports up to 10 s later.
        await WaitForTextAsync(page, text => text.Contains("coordinator", StringComparison.Ordinal) && text.Contains("tools/call submit_transaction", StringComparison.Ordinal)
            && (text.Contains("node-1", StringComparison.Ordinal) || text.Contains("node-2", StringComparison.Ordinal))
            && text.Contains("POST /mcp", StringComparison.Ordinal)
            && Count(text, "POST") > Count(text, "POST /mcp")
            && text.Contains("SET", StringComparison.Ordinal) && text.Contains("EVAL", StringComparison.Ordinal));
        await page.ScreenshotAsync(new() { Path = Artifact("dashboard-trace.png"), FullPage = true });
    }

    /// <summary>
    /// Submits a transfer with an idempotency key through the coordinator under a trace of the test's own, once a node
    /// is listed; returns the trace id.
    /// </summary>
    private static async Task<ActivityTraceId> TransferInATraceAsync(Uri mcpUrl)
    {
        using var http = new HttpClient();
        await ClusterApiProbe.WaitForNodesAsync(http, mcpUrl, 1);

        var trace = ActivityTraceId.CreateRandom();
        using var call = McpPost.To(
            mcpUrl,
            """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"submit_transaction","arguments":{"transaction":{"from":"acct-1","to":"acct-2","amount":5,"currency":"EUR"},"idempotency_key":"dashboard-trace"}}}""");
        call.Headers.TryAddWithoutValidation("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
        using var response = await http.SendAsync(call, Cancel);
        Assert.Contains("transactionId", (await McpPost.LastMessageAsync(response)).ToJsonString(), StringComparison.Ordinal);
        return trace;
    }

    /// <summary>Waits until the page's visible text satisfies <paramref name="condition"/>; fails with the text after 60 s.</summary>
    private static async Task WaitForTextAsync(IPage page, Func<string, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        string text;
        while (!condition(text = await page.InnerTextAsync("body")))
        {
            if (DateTime.UtcNow > deadline)
            {
                await page.ScreenshotAsync(new() { Path = Artifact("dashboard-failure.png"), FullPage = true });
                Assert.Fail($"The dashboard never showed what the test waits for. It showed:{Environment.NewLine}{text}");
            }

            await Task.Delay(500, Cancel);
        }
    }

    private static int Count(string text, string word)
    {
        var count = 0;
        for (var at = text.IndexOf(word, StringComparison.Ordinal); at >= 0; at = text.IndexOf(word, at + word.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>A file under the test output's <c>TestResults</c>, which CI keeps.</summary>
    private static string Artifact(string name)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "TestResults");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name);
        TestContext.Current.TestOutputHelper?.WriteLine($"screenshot: {path}");
        return path;
    }
}
