using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.ServiceDefaults.Redis;
using Microsoft.Extensions.Logging.Abstractions;

namespace McpAspire.IntegrationTests.Redis;

/// <summary>Authentication, database selection, pub/sub and tracing against both Garnet and redis-server.</summary>
public sealed class RedisFeatureTests(StoreServers stores)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task A_password_is_sent_with_AUTH_and_a_wrong_one_is_reported(string store)
    {
        stores.ConnectionString(store);
        string[] arguments = store == StoreServers.Redis ? ["--requirepass", "s3cret"] : ["--auth", "Password", "--password", "s3cret"];
        await using var server = await StoreServer.StartAsync(store, 0, options => options with { Password = "s3cret" }, arguments);

        await using (var redis = await Eventually.ConnectAsync($"{server.ConnectionString},password=s3cret"))
        {
            Assert.Equal("PONG", await redis.PingAsync(Cancel));
        }

        await using var wrong = RedisClient.Create(RedisConnectionOptions.Parse($"redis://:nope@{server.ConnectionString}"), NullLogger<RedisClient>.Instance);
        var reason = await Eventually.WaitForAsync(() => Task.FromResult(wrong.LastConnectionError));
        Assert.Contains("refused the handshake", reason, StringComparison.Ordinal);
        Assert.DoesNotContain("nope", reason, StringComparison.Ordinal);
        Assert.False(wrong.IsConnected);
    }

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task A_user_and_password_are_sent_with_AUTH(string store)
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

            await using var redis = await Eventually.ConnectAsync($"redis://alice:wonderland@{server.ConnectionString}");
            var whoami = await redis.ExecuteAsync(["ACL", "WHOAMI"], Cancel);
            Assert.Equal("alice", whoami.AsString());
        }
        finally
        {
            File.Delete(aclFile);
        }
    }

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task Tls_from_rediss_or_ssl_true_reaches_a_tls_server_and_checks_its_certificate(string store)
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
            RedisConnectionOptions Pinned(RedisConnectionOptions options) => options with
            {
                UseTls = true,
                CertificateValidation = (_, presented, _, _) => presented?.GetCertHashString() == certificate.Certificate.GetCertHashString(),
            };
            await using var server = await StoreServer.StartAsync(store, port, Pinned, arguments);

            foreach (var connectionString in new[] { $"rediss://{server.ConnectionString}", $"{server.ConnectionString},ssl=true" })
            {
                await using var redis = RedisClient.Create(Pinned(RedisConnectionOptions.Parse(connectionString)), NullLogger<RedisClient>.Instance);
                await redis.WaitForConnectionAsync(Cancel);
                Assert.Equal("PONG", await redis.PingAsync(Cancel));
            }

            // Without the pin the self-signed certificate is not trusted, and the reason says so.
            await using var untrusting = RedisClient.Create(RedisConnectionOptions.Parse($"rediss://{server.ConnectionString}"), NullLogger<RedisClient>.Instance);
            var reason = await Eventually.WaitForAsync(() => Task.FromResult(untrusting.LastConnectionError));
            Assert.Contains("certificate", reason, StringComparison.OrdinalIgnoreCase);
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
    public async Task Published_messages_reach_every_subscriber_of_the_channel_only(string store)
    {
        var connectionString = stores.ConnectionString(store);
        var channel = $"events:{Guid.NewGuid():N}";
        await using var redis = await Eventually.ConnectAsync(connectionString);
        await using var subscriber = RedisSubscriber.Create(RedisConnectionOptions.Parse(connectionString), NullLogger<RedisSubscriber>.Instance);
        await subscriber.WaitForConnectionAsync(Cancel);
        var first = new ConcurrentQueue<string>();
        var second = new ConcurrentQueue<string>();
        await using var a = await subscriber.SubscribeAsync(channel, message => first.Enqueue(message.PayloadText), Cancel);
        var b = await subscriber.SubscribeAsync(channel, message => second.Enqueue(message.PayloadText), Cancel);
        await using var other = await subscriber.SubscribeAsync(channel + ":other", _ => throw new InvalidOperationException("wrong channel"), Cancel);

        Assert.Equal(1, await redis.PublishAsync(channel, "one", Cancel));
        await Eventually.UntilAsync(() => Task.FromResult(first.Count == 1 && second.Count == 1));

        await b.DisposeAsync();
        await redis.PublishAsync(channel, "two", Cancel);
        await Eventually.UntilAsync(() => Task.FromResult(first.Count == 2));

        Assert.Equal(["one", "two"], first);
        Assert.Equal(["one"], second);
    }

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task The_subscriber_subscribes_again_after_the_server_restarts(string store)
    {
        stores.ConnectionString(store);
        var server = await StoreServer.StartAsync(store);
        var port = server.Port;
        var channel = "registry-events";
        await using var subscriber = RedisSubscriber.Create(RedisConnectionOptions.Parse(server.ConnectionString), NullLogger<RedisSubscriber>.Instance);
        var resubscribed = 0;
        subscriber.Resubscribed += (_, _) => Interlocked.Increment(ref resubscribed);
        var received = new ConcurrentQueue<string>();
        await subscriber.WaitForConnectionAsync(Cancel);
        await using var subscription = await subscriber.SubscribeAsync(channel, message => received.Enqueue(message.PayloadText), Cancel);
        // The first connection may have come before the handler was attached; count from here.
        var before = Volatile.Read(ref resubscribed);

        await server.DisposeAsync();
        await using var restarted = await StoreServer.StartAsync(store, port);
        await Eventually.UntilAsync(() => Task.FromResult(Volatile.Read(ref resubscribed) > before));
        await using var redis = await Eventually.ConnectAsync(restarted.ConnectionString);
        Assert.Equal(1, await redis.PublishAsync(channel, "after restart", Cancel));

        await Eventually.UntilAsync(() => Task.FromResult(received.Contains("after restart")));
    }

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task The_keepalive_ping_keeps_a_quiet_connection_with_no_channels(string store)
    {
        var connectionString = stores.ConnectionString(store);
        await using var subscriber = RedisSubscriber.Create(RedisConnectionOptions.Parse($"{connectionString},syncTimeout=1500"), NullLogger<RedisSubscriber>.Instance);
        var connections = 0;
        subscriber.Resubscribed += (_, _) => Interlocked.Increment(ref connections);
        await subscriber.WaitForConnectionAsync(Cancel);
        var baseline = Volatile.Read(ref connections);

        // Pings go out every 1.5 s; one that is never recognized as answered would replace the
        // connection and raise Resubscribed again.
        await Task.Delay(TimeSpan.FromSeconds(5), Cancel);

        Assert.Equal(baseline, Volatile.Read(ref connections));
        Assert.True(subscriber.IsConnected);
    }

    [Fact]
    public async Task A_failing_handler_does_not_stop_delivery()
    {
        var connectionString = stores.ConnectionString(StoreServers.Garnet);
        var channel = $"events:{Guid.NewGuid():N}";
        await using var redis = await Eventually.ConnectAsync(connectionString);
        await using var subscriber = RedisSubscriber.Create(RedisConnectionOptions.Parse(connectionString), NullLogger<RedisSubscriber>.Instance);
        await subscriber.WaitForConnectionAsync(Cancel);
        var received = new ConcurrentQueue<string>();
        await using var failing = await subscriber.SubscribeAsync(channel, _ => throw new InvalidOperationException("handler bug"), Cancel);
        await using var working = await subscriber.SubscribeAsync(channel, message => received.Enqueue(message.PayloadText), Cancel);

        await redis.PublishAsync(channel, "first", Cancel);
        await redis.PublishAsync(channel, "second", Cancel);

        await Eventually.UntilAsync(() => Task.FromResult(received.Count == 2));
        Assert.True(subscriber.IsConnected);
    }

    [Fact]
    public async Task Each_command_is_a_client_span_with_the_database_attributes_and_no_arguments()
    {
        var connectionString = stores.ConnectionString(StoreServers.Garnet);
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RedisTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var redis = await Eventually.ConnectAsync(connectionString);
        var key = $"traced:{Guid.NewGuid():N}";

        using (var parent = new Activity("test-parent").Start())
        {
            await redis.SetAsync(key, "secret-value", cancellationToken: Cancel);
            await Assert.ThrowsAsync<RedisServerException>(() => redis.ExecuteAsync(["NOSUCHCOMMAND", key], Cancel));
            var set = Assert.Single(stopped, span => span.ParentSpanId == parent.SpanId && span.DisplayName == "SET");
            Assert.Equal(ActivityKind.Client, set.Kind);
            Assert.Equal("redis", set.GetTagItem("db.system.name"));
            Assert.Equal("SET", set.GetTagItem("db.operation.name"));
            Assert.Equal("0", set.GetTagItem("db.namespace"));
            Assert.Equal("127.0.0.1", set.GetTagItem("server.address"));
            Assert.DoesNotContain(set.Tags, tag => tag.Value?.Contains("secret-value", StringComparison.Ordinal) == true);
            var failed = Assert.Single(stopped, span => span.ParentSpanId == parent.SpanId && span.DisplayName == "NOSUCHCOMMAND");
            Assert.Equal(ActivityStatusCode.Error, failed.Status);
            Assert.Equal(typeof(RedisServerException).FullName, failed.GetTagItem("error.type"));
        }
    }
}
