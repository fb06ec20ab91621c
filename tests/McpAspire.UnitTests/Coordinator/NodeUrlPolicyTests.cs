using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Net.Sockets;
using McpAspire.McpCoordinator.Routing;
using Microsoft.Extensions.Options;

namespace McpAspire.UnitTests.Coordinator;

public sealed class NodeUrlPolicyTests
{
    private static NodeUrlPolicy Policy(Action<NodeUrlOptions>? configure = null)
    {
        var options = new NodeUrlOptions();
        configure?.Invoke(options);
        return new NodeUrlPolicy(Options.Create(options));
    }

    [Theory]
    [InlineData("http://127.0.0.1:5100/mcp")]
    [InlineData("https://node-1.internal/mcp")]
    [InlineData("http://localhost:5100/mcp")]
    [InlineData("http://[::1]:5100/mcp")]
    [InlineData("http://10.0.0.7:8080/mcp")]
    public void Ordinary_node_urls_are_allowed_by_default(string url) => Assert.Null(Policy().Check(new Uri(url)));

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data", "link-local")]
    [InlineData("http://[fe80::1]/mcp", "link-local")]
    [InlineData("http://[fd00:ec2::254]/mcp", "link-local")]
    [InlineData("http://100.100.100.200/mcp", "link-local")]
    [InlineData("http://[::ffff:169.254.169.254]/mcp", "link-local")]
    [InlineData("http://metadata.google.internal/computeMetadata/v1", "metadata service")]
    [InlineData("http://METADATA/mcp", "metadata service")]
    [InlineData("http://0.0.0.0:5100/mcp", "not the address of one host")]
    [InlineData("http://255.255.255.255/mcp", "not the address of one host")]
    [InlineData("http://224.0.0.1/mcp", "not the address of one host")]
    [InlineData("ftp://127.0.0.1/mcp", "scheme 'ftp'")]
    [InlineData("http://u:p@127.0.0.1/mcp", "credentials")]
    public void Forbidden_node_urls_are_refused_saying_why(string url, string reason) =>
        Assert.Contains(reason, Policy().Check(new Uri(url)), StringComparison.Ordinal);

    [Fact]
    public void Link_local_addresses_may_be_allowed_on_purpose() =>
        Assert.Null(Policy(options => options.AllowLinkLocal = true).Check(new Uri("http://169.254.10.1/mcp")));

    [Fact]
    public void Allow_lists_admit_only_their_hosts_and_networks()
    {
        var policy = Policy(options =>
        {
            options.AllowedHosts.Add("*.svc.cluster.local");
            options.AllowedHosts.Add("node-a");
            options.AllowedNetworks.Add("10.0.0.0/8");
            options.DeniedNetworks.Add("10.9.0.0/16");
        });

        Assert.Null(policy.Check(new Uri("http://node-1.mcp.svc.cluster.local/mcp")));
        Assert.Null(policy.Check(new Uri("http://node-a/mcp")));
        Assert.Null(policy.Check(new Uri("http://10.1.2.3/mcp")));
        Assert.Contains("none of Coordinator:NodeUrls:AllowedNetworks", policy.Check(new Uri("http://192.168.1.1/mcp")), StringComparison.Ordinal);
        Assert.Contains("DeniedNetworks", policy.Check(new Uri("http://10.9.0.1/mcp")), StringComparison.Ordinal);
        Assert.Contains("scheme 'ftp'", Policy(options => options.AllowedSchemes.Add("https")).Check(new Uri("ftp://10.0.0.1/mcp")), StringComparison.Ordinal);
        Assert.Contains("scheme 'http'", Policy(options => options.AllowedSchemes.Add("https")).Check(new Uri("http://10.0.0.1/mcp")), StringComparison.Ordinal);
        Assert.Contains("not in Coordinator:NodeUrls:AllowedHosts", Policy(options => options.AllowedHosts.Add("node-a")).Check(new Uri("http://node-b/mcp")), StringComparison.Ordinal);
        Assert.Contains("not in Coordinator:NodeUrls:AllowedHosts", Policy(options => options.AllowedHosts.Add("*.example")).Check(new Uri("http://example/mcp")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connecting_resolves_the_name_and_never_connects_to_a_refused_address()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        // The registry check passes a name; its addresses are checked on connecting.
        var denying = Policy(options => options.DeniedNetworks.Add("127.0.0.0/8"));
        Assert.Null(denying.Check(new Uri($"http://localhost:{port}/mcp")));

        var refused = await Assert.ThrowsAsync<HttpRequestException>(async () =>
            await denying.ConnectAsync(Context("localhost", port), TestContext.Current.CancellationToken));
        await using var allowed = await Policy().ConnectAsync(Context("127.0.0.1", port), TestContext.Current.CancellationToken);
        using var accepted = await listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken);

        Assert.Contains("refuses localhost", refused.Message, StringComparison.Ordinal);
        Assert.False(listener.Pending());
        Assert.True(allowed.CanWrite);
    }

    [Fact]
    public async Task The_forwarders_connections_go_through_the_policy()
    {
        using var handler = new SocketsHttpHandler { ConnectCallback = Policy().ConnectAsync };
        using var http = new HttpClient(handler);

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(new Uri("http://169.254.169.254/latest/meta-data"), TestContext.Current.CancellationToken));

        Assert.Contains("link-local", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AllowedSchemes", "gopher", "AllowedSchemes has 'gopher'")]
    [InlineData("AllowedHosts", "", "AllowedHosts has ''")]
    [InlineData("AllowedHosts", "a*.b", "AllowedHosts has 'a*.b'")]
    [InlineData("AllowedNetworks", "10.0.0.0/33", "AllowedNetworks has '10.0.0.0/33'")]
    [InlineData("DeniedNetworks", "nowhere", "DeniedNetworks has 'nowhere'")]
    public void Bad_settings_are_refused_naming_their_key(string list, string value, string message)
    {
        var options = new NodeUrlOptions();
        ((IList<string>)typeof(NodeUrlOptions).GetProperty(list)!.GetValue(options)!).Add(value);
        var results = new List<ValidationResult>();

        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);

        Assert.Contains(results, result => result.ErrorMessage!.Contains($"Coordinator:NodeUrls:{message}", StringComparison.Ordinal));
    }

    private static SocketsHttpConnectionContext Context(string host, int port)
    {
        // The handler makes these itself; a test reaches one through a handler that records it.
        SocketsHttpConnectionContext? seen = null;
        using var handler = new SocketsHttpHandler { ConnectCallback = (context, _) => { seen = context; throw new OperationCanceledException(); } };
        using var http = new HttpMessageInvoker(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{host}:{port}/");
        try
        {
            http.SendAsync(request, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or TaskCanceledException)
        {
            // The context is what was wanted.
        }

        return seen!;
    }
}
