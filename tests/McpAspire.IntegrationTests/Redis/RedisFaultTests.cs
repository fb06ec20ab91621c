using System.Collections.Concurrent;
using System.Diagnostics;
using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.ServiceDefaults.Redis;

namespace McpAspire.IntegrationTests.Redis;

/// <summary>
/// The server is killed (SIGKILL) under load from 50 concurrent callers and started again on the same
/// port. No call may hang: each succeeds or fails with a Redis error within its timeout. The client
/// must be serving again within 5 s of the server's return, by itself.
/// </summary>
public sealed class RedisFaultTests(StoreServers stores)
{
    private const int Callers = 50;
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(1);

    // A call that takes longer than its timeout plus this much counts as hung.
    private static readonly TimeSpan HangMargin = TimeSpan.FromSeconds(4);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task Killing_the_server_under_load_fails_calls_clearly_and_the_client_recovers_within_5_s(string store)
    {
        stores.ConnectionString(store);
        var server = await StoreServer.StartAsync(store);
        var port = server.Port;
        await using var redis = await Eventually.ConnectAsync($"{server.ConnectionString},syncTimeout={CommandTimeout.TotalMilliseconds},connectTimeout=1000");
        var load = new Load(redis);
        var workers = Enumerable.Range(0, Callers).Select(load.RunAsync).ToArray();
        StoreServer? restarted = null;
        try
        {
            await Eventually.UntilAsync(() => Task.FromResult(load.Succeeded > 2_000));

            using (var victim = Process.GetProcessById(server.Process.ProcessId))
            {
                victim.Kill();
            }

            await Eventually.UntilAsync(() => Task.FromResult(load.FailedClearly > 0));
            await server.DisposeAsync();
            restarted = await StoreServer.StartAsync(store, port);

            // The server is back and answering: the client must find it by itself.
            var back = Stopwatch.StartNew();
            var succeededBefore = load.Succeeded;
            while (load.Succeeded <= succeededBefore + Callers)
            {
                Assert.True(back.Elapsed < TimeSpan.FromSeconds(5), $"The client had not recovered {back.Elapsed.TotalSeconds:0.0} s after the server came back.");
                await Task.Delay(20, Cancel);
            }
        }
        finally
        {
            await load.StopAsync(workers);
            if (restarted is not null)
            {
                await restarted.DisposeAsync();
            }
        }

        Assert.Empty(load.Unexpected);
        Assert.Equal(0, load.Hung);
        Assert.True(load.FailedClearly > 0);
    }

    private sealed class Load(RedisClient redis)
    {
        private volatile bool _stopping;
        private long _succeeded;
        private long _failedClearly;
        private long _hung;

        public long Succeeded => Interlocked.Read(ref _succeeded);

        public long FailedClearly => Interlocked.Read(ref _failedClearly);

        public long Hung => Interlocked.Read(ref _hung);

        public ConcurrentQueue<Exception> Unexpected { get; } = new();

        public async Task RunAsync(int caller)
        {
            var key = $"fault-test:{caller}";
            for (var i = 0; !_stopping; i++)
            {
                var call = i % 2 == 0 ? redis.SetAsync(key, i.ToString(System.Globalization.CultureInfo.InvariantCulture)) : redis.GetAsync(key);
                try
                {
                    await call.WaitAsync(CommandTimeout + HangMargin);
                    Interlocked.Increment(ref _succeeded);
                    continue;
                }
                catch (TimeoutException)
                {
                    Interlocked.Increment(ref _hung);
                }
                catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
                {
                    Interlocked.Increment(ref _failedClearly);
                }
#pragma warning disable CA1031 // Anything else is recorded and fails the test.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Unexpected.Enqueue(ex);
                }

                // Fail-fast calls come back at once; pause so 50 callers do not spin while the server is down.
                await Task.Delay(10);
            }
        }

        public async Task StopAsync(Task[] workers)
        {
            _stopping = true;
            await Task.WhenAll(workers);
        }
    }
}
