using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using McpAspire.Cluster;
using McpAspire.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace McpAspire.IntegrationTests.Store;

/// <summary>
/// StackExchange.Redis, set up as the services set it up (<see cref="ClusterStore.Configure"/>), against Garnet and
/// redis-server: the registry's commands, failing fast while the store is away and finding it again by itself,
/// passwords, ACL users, TLS, the database, and pub/sub across a restart.
/// </summary>
public sealed class StoreConnectionTests(StoreServers stores)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task The_registry_commands_round_trip(string store)
    {
        await using var redis = await Eventually.ConnectAsync(stores.ConnectionString(store));
        var key = $"it:{Guid.NewGuid():N}";

        await redis.SetAsync(key, "välue ✓", TimeSpan.FromMinutes(1), Cancel);
        var many = await redis.GetDatabase().StringGetAsync([key, key + ":missing"]);
        Assert.True(await redis.SetAddAsync(key + ":set", "a", Cancel));
        Assert.False(await redis.SetAddAsync(key + ":set", "a", Cancel));
        await redis.SetAddAsync(key + ":set", "b", Cancel);
        var removed = await redis.SetRemoveAsync(key + ":set", ["a", "zzz"], Cancel);

        Assert.Equal("välue ✓", await redis.GetAsync(key, Cancel));
        Assert.InRange(await redis.TimeToLiveMillisecondsAsync(key, Cancel), 1, 60_000);
        Assert.Equal(["välue ✓", null], many.Select(value => (string?)value));
        Assert.Equal(1, removed);
        Assert.Equal(["b"], await redis.SetMembersAsync(key + ":set", Cancel));
        Assert.True(await redis.DeleteAsync(key, Cancel));
        Assert.Null(await redis.GetAsync(key, Cancel));
    }

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task Concurrent_callers_each_get_their_own_reply_and_a_server_error_fails_only_its_command(string store)
    {
        await using var redis = await Eventually.ConnectAsync(stores.ConnectionString(store));
        var database = redis.GetDatabase();
        var counter = $"it:counter:{Guid.NewGuid():N}";
        var text = $"it:text:{Guid.NewGuid():N}";
        await database.StringSetAsync(text, "not a number");

        var increments = Enumerable.Range(0, 2000).Select(_ => database.StringIncrementAsync(counter)).ToArray();
        var refused = database.StringIncrementAsync(text);
        var after = database.StringIncrementAsync(counter);

        Assert.Equal(Enumerable.Range(1, 2000).Select(i => (long)i), (await Task.WhenAll(increments)).Order());
        await Assert.ThrowsAsync<RedisServerException>(() => refused);
        Assert.Equal(2001, await after);
    }

    [Fact]
    public async Task Commands_fail_at_once_with_a_clear_error_while_no_server_is_reachable()
    {
        var options = ClusterStore.Configure(ConfigurationOptions.Parse($"127.0.0.1:{PortAllocator.RefusingPort},connectTimeout=500"));
        await using var redis = await ConnectionMultiplexer.ConnectAsync(options);

        // Queued commands would wait for the store and time out; the services' commands are refused at once.
        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => redis.GetDatabase().StringGetAsync("anything"));

        Assert.Contains("No connection is active/available", error.Message, StringComparison.Ordinal);
        Assert.False(redis.IsConnected);
    }

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task Killing_the_server_under_load_fails_calls_clearly_and_the_client_recovers_within_5_s(string store)
    {
        stores.ConnectionString(store);
        var server = await StoreServer.StartAsync(store);
        var port = server.Port;
        await using var redis = await Eventually.ConnectAsync($"{server.ConnectionString},syncTimeout=1000,connectTimeout=1000");
        var load = new Load(redis);
        var workers = Enumerable.Range(0, Load.Callers).Select(load.RunAsync).ToArray();
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
            while (load.Succeeded <= succeededBefore + Load.Callers)
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

    [Fact]
    public async Task A_server_that_stops_answering_times_out_and_is_used_again_once_it_answers()
    {
        await using var server = await StoreServer.StartGarnetAsync();
        await using var redis = await Eventually.ConnectAsync($"{server.ConnectionString},syncTimeout=1000");
        var database = redis.GetDatabase();
        await database.StringSetAsync("frozen", "before");

        await server.Process.SignalAsync("STOP");
        try
        {
            // A command that hangs past 10 s ends in a plain TimeoutException from WaitAsync, which is no store failure.
            var error = await Record.ExceptionAsync(() => database.StringGetAsync("frozen").WaitAsync(TimeSpan.FromSeconds(10), Cancel));
            Assert.True(error is not null && ClusterStore.IsStoreFailure(error, Cancel), $"Expected the store's timeout, got {error}");
        }
        finally
        {
            await server.Process.SignalAsync("CONT");
        }

        await Eventually.UntilAsync(async () => await Eventually.AnswersAsync(redis) && (string?)await database.StringGetAsync("frozen") == "before");
    }

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task A_password_is_sent_and_a_wrong_one_is_reported_without_it(string store)
    {
        stores.ConnectionString(store);
        string[] arguments = store == StoreServers.Redis ? ["--requirepass", "s3cret"] : ["--auth", "Password", "--password", "s3cret"];
        await using var server = await StoreServer.StartAsync(store, 0, options => options.Password = "s3cret", arguments);

        await using (var redis = await Eventually.ConnectAsync($"{server.ConnectionString},password=s3cret"))
        {
            Assert.True(await Eventually.AnswersAsync(redis));
        }

        await using var wrong = await ConnectionMultiplexer.ConnectAsync(ClusterStore.Configure(ConfigurationOptions.Parse($"{server.ConnectionString},password=nope")));
        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => wrong.GetDatabase().PingAsync());
        Assert.Contains("Authentication", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("nope", error.ToString(), StringComparison.Ordinal);
        Assert.False(wrong.IsConnected);
    }

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task A_user_and_password_are_sent(string store)
    {
        stores.ConnectionString(store);
        var aclFile = Path.Combine(Path.GetTempPath(), $"mcpaspire-acl-{Guid.NewGuid():N}.acl");
        // Garnet's ACL syntax has no channel rules (&*); redis-server 7 defaults channels to none without them.
        var channels = store == StoreServers.Redis ? " &*" : string.Empty;
        await File.WriteAllTextAsync(aclFile, $"user default on nopass ~*{channels} +@all\nuser alice on >wonderland ~*{channels} +@all\n", Cancel);
        try
        {
            string[] arguments = store == StoreServers.Redis ? ["--aclfile", aclFile] : ["--auth", "ACL", "--acl-file", aclFile];
            await using var server = await StoreServer.StartAsync(store, 0, null, arguments);

            await using var redis = await Eventually.ConnectAsync($"{server.ConnectionString},user=alice,password=wonderland");
            Assert.Equal("alice", (string?)await redis.GetDatabase().ExecuteAsync("ACL", "WHOAMI"));
        }
        finally
        {
            File.Delete(aclFile);
        }
    }

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task Tls_from_ssl_true_reaches_a_tls_server_and_checks_its_certificate(string store)
    {
        stores.ConnectionString(store);
        using var certificate = TestCertificate.Create();
        var directory = Directory.CreateTempSubdirectory("mcpaspire-tls-");
        try
        {
            var certFile = Path.Combine(directory.FullName, "server.crt");
            var keyFile = Path.Combine(directory.FullName, "server.key");
            var pfxFile = Path.Combine(directory.FullName, "server.pfx");
            await File.WriteAllTextAsync(certFile, certificate.Certificate.ExportCertificatePem(), Cancel);
            await File.WriteAllTextAsync(keyFile, certificate.Key.ExportPkcs8PrivateKeyPem(), Cancel);
            await File.WriteAllBytesAsync(pfxFile, certificate.Certificate.Export(X509ContentType.Pfx, "pfx-pass"), Cancel);
            var port = PortAllocator.GetFreePort();
            string[] arguments = store == StoreServers.Redis
                ? ["--port", "0", "--tls-port", port.ToString(CultureInfo.InvariantCulture), "--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-ca-cert-file", certFile, "--tls-auth-clients", "no"]
                : ["--tls", "--cert-file-name", pfxFile, "--cert-password", "pfx-pass", "--client-certificate-required", "false"];
            void Pinned(ConfigurationOptions options)
            {
                options.Ssl = true;
                options.CertificateValidation += (_, presented, _, _) => presented?.GetCertHashString() == certificate.Certificate.GetCertHashString();
            }

            await using var server = await StoreServer.StartAsync(store, port, Pinned, arguments);

            await using (var redis = await Eventually.ConnectAsync($"{server.ConnectionString},ssl=true", Pinned))
            {
                Assert.True(await Eventually.AnswersAsync(redis));
            }

            // Without the pin the self-signed certificate is not trusted, and the connection is never made.
            await using var untrusting = await ConnectionMultiplexer.ConnectAsync(ClusterStore.Configure(ConfigurationOptions.Parse($"{server.ConnectionString},ssl=true,connectTimeout=1000")));
            await Assert.ThrowsAsync<RedisConnectionException>(() => untrusting.GetDatabase().PingAsync());
            Assert.False(untrusting.IsConnected);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task The_configured_database_is_selected(string store)
    {
        var key = $"db-test:{Guid.NewGuid():N}";
        await using var database3 = await Eventually.ConnectAsync($"{stores.ConnectionString(store)},defaultDatabase=3");
        await using var database0 = await Eventually.ConnectAsync(stores.ConnectionString(store));

        await database3.SetAsync(key, "in three", cancellationToken: Cancel);

        Assert.Equal("in three", await database3.GetAsync(key, Cancel));
        Assert.Null(await database0.GetAsync(key, Cancel));
    }

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task Published_messages_reach_the_subscribers_of_the_channel_only_and_a_failing_handler_stops_none(string store)
    {
        var connectionString = stores.ConnectionString(store);
        var channel = $"events:{Guid.NewGuid():N}";
        await using var redis = await Eventually.ConnectAsync(connectionString);
        await using var subscriber = await Eventually.ConnectAsync(connectionString);
        var received = new ConcurrentQueue<string>();
        var other = new ConcurrentQueue<string>();
        await subscriber.GetSubscriber().SubscribeAsync(RedisChannel.Literal(channel), (_, _) => throw new InvalidOperationException("handler bug"));
        await subscriber.GetSubscriber().SubscribeAsync(RedisChannel.Literal(channel), (_, message) => received.Enqueue(message.ToString()));
        await subscriber.GetSubscriber().SubscribeAsync(RedisChannel.Literal(channel + ":other"), (_, message) => other.Enqueue(message.ToString()));

        Assert.Equal(1, await redis.PublishAsync(channel, "one", Cancel));
        await redis.PublishAsync(channel, "two", Cancel);

        await Eventually.UntilAsync(() => Task.FromResult(received.Count == 2));
        Assert.Equal(["one", "two"], received.Order(StringComparer.Ordinal));
        Assert.Empty(other);
        Assert.True(subscriber.IsConnected);
    }

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task After_the_server_restarts_the_subscription_is_back_and_the_restore_is_announced(string store)
    {
        stores.ConnectionString(store);
        var server = await StoreServer.StartAsync(store);
        var port = server.Port;
        var channel = $"registry-events:{Guid.NewGuid():N}";
        await using var subscriber = await Eventually.ConnectAsync(server.ConnectionString);
        var restored = 0;
        subscriber.ConnectionRestored += (_, _) => Interlocked.Increment(ref restored);
        var received = new ConcurrentQueue<string>();
        await subscriber.GetSubscriber().SubscribeAsync(RedisChannel.Literal(channel), (_, message) => received.Enqueue(message.ToString()));

        await server.DisposeAsync();
        await using var restarted = await StoreServer.StartAsync(store, port);
        await Eventually.UntilAsync(() => Task.FromResult(Volatile.Read(ref restored) > 0));
        await using var redis = await Eventually.ConnectAsync(restarted.ConnectionString);
        await Eventually.UntilAsync(async () => await redis.PublishAsync(channel, "after restart", Cancel) == 1);

        await Eventually.UntilAsync(() => Task.FromResult(received.Contains("after restart")));
    }

    /// <summary>Callers that SET and GET without pause, and count how each call ended.</summary>
    private sealed class Load(IConnectionMultiplexer redis)
    {
        public const int Callers = 50;

        // A call that takes longer than this counts as hung: the timeout is 1 s.
        private static readonly TimeSpan HangAfter = TimeSpan.FromSeconds(5);

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
            var database = redis.GetDatabase();
            for (var i = 0; !_stopping; i++)
            {
                Task call = i % 2 == 0 ? database.StringSetAsync(key, i) : database.StringGetAsync(key);
                try
                {
                    await call.WaitAsync(HangAfter);
                    Interlocked.Increment(ref _succeeded);
                    continue;
                }
                catch (Exception ex) when (ClusterStore.IsStoreFailure(ex))
                {
                    Interlocked.Increment(ref _failedClearly);
                }
                catch (TimeoutException)
                {
                    Interlocked.Increment(ref _hung);
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
