using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.McpNode;
using McpAspire.McpNode.Packs.Files;
using Microsoft.Extensions.DependencyInjection;

namespace McpAspire.IntegrationTests.Node;

/// <summary>The <c>files</c> pack on a real node over a real directory tree, with a suite of escape attempts.</summary>
public sealed class FilesPackTests : IClassFixture<FilesPackTests.Sandbox>
{
    private readonly Sandbox _sandbox;

    public FilesPackTests(Sandbox sandbox) => _sandbox = sandbox;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>
    /// A temporary tree: root <c>data</c> (read-write) full of traps, root <c>docs</c> (read-only), and an
    /// <c>outside</c> directory with a secret that no tool may reach.
    /// </summary>
    public sealed class Sandbox : IAsyncLifetime
    {
        public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("mcpaspire-files-").FullName;

        public ServiceHost<NodeOptions> Node { get; private set; } = null!;

        public string Data => Path.Combine(Directory, "data");

        public string Outside => Path.Combine(Directory, "outside");

        public async ValueTask InitializeAsync()
        {
            var docs = Path.Combine(Directory, "docs");
            foreach (var folder in new[] { Data, docs, Outside, Path.Combine(Data, "sub"), Path.Combine(Data, "keys"), Path.Combine(Data, "certs") })
            {
                System.IO.Directory.CreateDirectory(folder);
            }

            await File.WriteAllTextAsync(Path.Combine(Outside, "secret.txt"), "TOP-SECRET");
            await File.WriteAllTextAsync(Path.Combine(Data, "hello.txt"), "hello from the sandbox");
            await File.WriteAllTextAsync(Path.Combine(Data, "sub", "note.txt"), "a note");
            await File.WriteAllTextAsync(Path.Combine(Data, ".env"), "PASSWORD=x");
            await File.WriteAllTextAsync(Path.Combine(Data, "sub", ".env"), "PASSWORD=y");
            await File.WriteAllTextAsync(Path.Combine(Data, "credentials.json"), "{}");
            await File.WriteAllTextAsync(Path.Combine(Data, "keys", "server.key"), "KEY");
            await File.WriteAllTextAsync(Path.Combine(Data, "certs", "ca.pem"), "PEM");
            await File.WriteAllBytesAsync(Path.Combine(Data, "big.bin"), new byte[2048]);
            await File.WriteAllTextAsync(Path.Combine(docs, "readme.md"), "# docs");
            File.CreateSymbolicLink(Path.Combine(Data, "link-out"), Outside);
            File.CreateSymbolicLink(Path.Combine(Data, "link-file"), Path.Combine(Outside, "secret.txt"));
            File.CreateSymbolicLink(Path.Combine(Data, "link-root"), "/");
            File.CreateSymbolicLink(Path.Combine(Data, "link-loop-a"), Path.Combine(Data, "link-loop-b"));
            File.CreateSymbolicLink(Path.Combine(Data, "link-loop-b"), Path.Combine(Data, "link-loop-a"));
            File.CreateSymbolicLink(Path.Combine(Data, "inner-link"), "hello.txt");
            // 'p' reads as root/x to a lexical resolver, but the kernel follows q out first: outside/deep/x.
            System.IO.Directory.CreateDirectory(Path.Combine(Outside, "deep", "dir"));
            await File.WriteAllTextAsync(Path.Combine(Outside, "deep", "x"), "TOP-SECRET");
            File.CreateSymbolicLink(Path.Combine(Data, "q"), Path.Combine(Outside, "deep", "dir"));
            File.CreateSymbolicLink(Path.Combine(Data, "p"), "q/../x");
            File.CreateSymbolicLink(Path.Combine(Data, "notes"), ".env");
            File.CreateSymbolicLink(Path.Combine(Data, "self-loop"), "self-loop/y");
            using (var mkfifo = Process.Start("mkfifo", [Path.Combine(Data, "fifo")]))
            {
                await mkfifo.WaitForExitAsync();
                Assert.Equal(0, mkfifo.ExitCode);
            }

            Node = TestServices.StartNode(
                ("Node:Id", "files-1"), ("Node:Packs", "core,files"), ("Files:MaxFileBytes", "1024"),
                ("Files:Roots:0:Name", "data"), ("Files:Roots:0:Path", Data), ("Files:Roots:0:Access", "ReadWrite"),
                ("Files:Roots:1:Name", "docs"), ("Files:Roots:1:Path", docs), ("Files:Roots:1:Access", "ReadOnly"));
        }

        public async ValueTask DisposeAsync()
        {
            await Node.DisposeAsync();
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    private async Task<JsonObject> CallAsync(string tool, object arguments)
    {
        using var http = new HttpClient();
        var body = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = 1,
            ["method"] = "tools/call",
            ["params"] = new JsonObject { ["name"] = tool, ["arguments"] = JsonSerializer.SerializeToNode(arguments) },
        };
        using var response = await http.SendAsync(RawMcp.Post(_sandbox.Node.McpUrl, body.ToJsonString()), Cancel);
        return (JsonObject)(await RawMcp.ReadMessageAsync(response))["result"]!;
    }

    public static TheoryData<string, string, string, string> EscapeAttempts => new()
    {
        { "read_file", "data", "../outside/secret.txt", "contains '..'" },
        { "read_file", "data", "../../etc/passwd", "contains '..'" },
        { "read_file", "data", "sub/../../outside/secret.txt", "contains '..'" },
        { "read_file", "data", "sub/./../../outside/secret.txt", "contains '..'" },
        { "read_file", "data", "..\\outside\\secret.txt", "contains '..'" },
        { "read_file", "data", "/etc/passwd", "is absolute" },
        { "read_file", "data", "\\etc\\passwd", "is absolute" },
        { "read_file", "data", "C:\\Windows\\win.ini", "is absolute" },
        { "read_file", "data", "~/.ssh/id_rsa", "is absolute" },
        { "read_file", "data", "link-out/secret.txt", "through a symbolic link" },
        { "read_file", "data", "link-file", "through a symbolic link" },
        { "read_file", "data", "link-root/etc/passwd", "through a symbolic link" },
        { "read_file", "data", "link-loop-a", "loops or cannot be resolved" },
        { "read_file", "data", "p", "through a symbolic link" },
        { "read_file", "data", "self-loop", "loops or cannot be resolved" },
        { "read_file", "data", "notes", "excluded by policy" },
        { "read_file", "data", ".env", "excluded by policy" },
        { "read_file", "data", "sub/.env", "excluded by policy" },
        { "read_file", "data", "credentials.json", "excluded by policy" },
        { "read_file", "data", "keys/server.key", "excluded by policy" },
        { "read_file", "data", "certs/ca.pem", "excluded by policy" },
        { "read_file", "data", "big.bin", "larger than the 1024-byte cap" },
        { "read_file", "data", "fifo", "not a regular file" },
        { "read_file", "data", "sub", "not a regular file" },
        { "read_file", "data", "nul\0.txt", "contains a NUL character" },
        { "read_file", "data", new string('a', 2000), "longer than 1024 characters" },
        { "read_file", "etc", "passwd", "Unknown root 'etc'" },
        { "write_file", "docs", "new.txt", "Root 'docs' is read-only" },
        { "write_file", "data", "../outside/evil.txt", "contains '..'" },
        { "write_file", "data", ".env", "excluded by policy" },
        { "write_file", "data", "link-out/evil.txt", "through a symbolic link" },
        { "write_file", "data", "no-such-dir/evil.txt", "does not exist" },
        { "list_directory", "data", "link-out", "through a symbolic link" },
        { "list_directory", "data", "../outside", "contains '..'" },
        { "list_directory", "data", "/", "is absolute" },
    };

    [Theory]
    [MemberData(nameof(EscapeAttempts))]
    public async Task Every_escape_attempt_is_denied_and_audited(string tool, string root, string path, string reason)
    {
        object arguments = tool == "write_file" ? new { root, path, content = "evil" } : new { root, path };

        var result = await CallAsync(tool, arguments);

        Assert.True(result["isError"]!.GetValue<bool>());
        var text = result["content"]![0]!["text"]!.GetValue<string>();
        Assert.Contains("Access denied", text, StringComparison.Ordinal);
        Assert.Contains(reason, text, StringComparison.Ordinal);
        Assert.DoesNotContain("TOP-SECRET", result.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain(_sandbox.Directory, text, StringComparison.Ordinal);
        var audit = _sandbox.Node.Services.GetRequiredService<FileAuditLog>().Recent;
        Assert.Contains(audit, entry => entry.Path == path && entry.Root == root && entry.Decision == "denied" && entry.Who.StartsWith("anonymous@", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(_sandbox.Outside, "evil.txt")));
    }

    [Fact]
    public async Task The_official_client_lists_reads_and_writes_inside_the_roots_and_each_access_is_audited()
    {
        await using var client = await OfficialClient.ConnectAsync(_sandbox.Node.McpUrl);

        var roots = (await client.CallToolAsync("list_roots", cancellationToken: Cancel)).StructuredContent!.Value.GetProperty("roots");
        var listing = (await client.CallToolAsync("list_directory", new Dictionary<string, object?> { ["root"] = "data" }, cancellationToken: Cancel)).StructuredContent!.Value;
        var hello = (await client.CallToolAsync("read_file", new Dictionary<string, object?> { ["root"] = "data", ["path"] = "hello.txt" }, cancellationToken: Cancel)).StructuredContent!.Value;
        var viaInnerLink = (await client.CallToolAsync("read_file", new Dictionary<string, object?> { ["root"] = "data", ["path"] = "inner-link" }, cancellationToken: Cancel)).StructuredContent!.Value;
        var written = await client.CallToolAsync("write_file", new Dictionary<string, object?> { ["root"] = "data", ["path"] = "sub/out.txt", ["content"] = "written ✓" }, cancellationToken: Cancel);

        Assert.Equal(["data:read-write", "docs:read-only"], roots.EnumerateArray().Select(r => $"{r.GetProperty("name").GetString()}:{r.GetProperty("access").GetString()}"));
        var names = listing.GetProperty("entries").EnumerateArray().Select(entry => entry.GetProperty("name").GetString()).ToArray();
        Assert.Contains("hello.txt", names);
        Assert.DoesNotContain(".env", names);
        Assert.DoesNotContain("credentials.json", names);
        Assert.Equal("hello from the sandbox", hello.GetProperty("content").GetString());
        Assert.Equal("hello from the sandbox", viaInnerLink.GetProperty("content").GetString());
        Assert.NotEqual(true, written.IsError);
        Assert.Equal("written ✓", await File.ReadAllTextAsync(Path.Combine(_sandbox.Data, "sub", "out.txt"), Cancel));
        var audit = _sandbox.Node.Services.GetRequiredService<FileAuditLog>().Recent;
        Assert.Contains(audit, entry => entry is { Operation: "read", Path: "hello.txt", Decision: "allowed" });
        Assert.Contains(audit, entry => entry is { Operation: "write", Path: "sub/out.txt", Decision: "allowed" });
    }
}
