using System.Diagnostics;
using McpAspire.McpNode.Packs.Files;
using Microsoft.Extensions.Options;

namespace McpAspire.UnitTests.Node;

/// <summary>
/// A path is checked, then changed before it is opened (the TOCTOU race): each case swaps in a symlink,
/// a FIFO or a bigger file between <see cref="FileSandbox.Authorize"/> and the open, which must refuse.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FileSandboxRaceTests : IDisposable
{
    private readonly DirectoryInfo _base = Directory.CreateTempSubdirectory("mcpaspire-race-");
    private readonly string _root;
    private readonly string _outside;
    private readonly FileSandbox _sandbox;

    public FileSandboxRaceTests()
    {
        _root = Directory.CreateDirectory(Path.Combine(_base.FullName, "root")).FullName;
        _outside = Directory.CreateDirectory(Path.Combine(_base.FullName, "outside")).FullName;
        File.WriteAllText(Path.Combine(_outside, "secret.txt"), "outside the root");
        Directory.CreateDirectory(Path.Combine(_root, "sub"));
        File.WriteAllText(Path.Combine(_root, "sub", "notes.txt"), "inside");
        var options = new FilesOptions { MaxFileBytes = 64 };
        options.Roots.Add(new FileRoot { Name = "work", Path = _root, Access = FileAccessMode.ReadWrite });
        _sandbox = new FileSandbox(Options.Create(options));
    }

    public void Dispose() => _base.Delete(recursive: true);

    [Fact]
    public void Opens_are_confined_on_this_machine()
    {
        // CI runs on Linux 5.6+; without openat2 these tests would prove nothing.
        Assert.True(ConfinedFiles.IsSupported, "openat2 is not available, so opens are not confined.");
    }

    [Fact]
    public void A_file_swapped_for_a_symlink_out_of_the_root_is_refused_at_open()
    {
        var target = _sandbox.Authorize("work", "sub/notes.txt", FileOperation.Read);
        SwapForLink(Path.Combine(_root, "sub", "notes.txt"), Path.Combine(_outside, "secret.txt"));

        var denied = Assert.Throws<FileAccessDeniedException>(() => _sandbox.OpenForRead(target).Dispose());

        Assert.Contains("changed while it was being opened", denied.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_swapped_for_a_symlink_is_refused_for_writes_and_nothing_lands_outside()
    {
        var target = _sandbox.Authorize("work", "sub/new.txt", FileOperation.Write);
        SwapForLink(Path.Combine(_root, "sub"), _outside);

        Assert.Throws<FileAccessDeniedException>(() => _sandbox.Replace(target, "escaped"u8));

        Assert.Equal(["secret.txt"], Directory.EnumerateFileSystemEntries(_outside).Select(Path.GetFileName));
    }

    [Fact]
    public void A_directory_swapped_for_a_symlink_is_refused_for_listing()
    {
        var target = _sandbox.Authorize("work", "sub", FileOperation.List);
        SwapForLink(Path.Combine(_root, "sub"), _outside);

        Assert.Throws<FileAccessDeniedException>(() => _sandbox.ReadDirectory(target, directory => directory.GetFiles()));
    }

    [Fact]
    public async Task A_file_swapped_for_a_fifo_is_refused_without_blocking()
    {
        var target = _sandbox.Authorize("work", "sub/notes.txt", FileOperation.Read);
        File.Delete(Path.Combine(_root, "sub", "notes.txt"));
        using (var mkfifo = Process.Start("mkfifo", Path.Combine(_root, "sub", "notes.txt")))
        {
            await mkfifo.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        var denied = Assert.Throws<FileAccessDeniedException>(() => _sandbox.OpenForRead(target).Dispose());

        Assert.Contains("not a regular file", denied.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_grew_past_the_cap_after_the_check_is_refused_at_open()
    {
        var target = _sandbox.Authorize("work", "sub/notes.txt", FileOperation.Read);
        File.WriteAllText(Path.Combine(_root, "sub", "notes.txt"), new string('x', 65));

        var denied = Assert.Throws<FileAccessDeniedException>(() => _sandbox.OpenForRead(target).Dispose());

        Assert.Contains("larger than the 64-byte cap", denied.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_write_replaces_a_symlink_swapped_in_for_the_file_instead_of_writing_through_it()
    {
        var target = _sandbox.Authorize("work", "sub/notes.txt", FileOperation.Write);
        SwapForLink(Path.Combine(_root, "sub", "notes.txt"), Path.Combine(_outside, "secret.txt"));

        var denied = Assert.Throws<FileAccessDeniedException>(() => _sandbox.Replace(target, "overwritten"u8));

        Assert.Contains("not a regular file", denied.Message, StringComparison.Ordinal);
        Assert.Equal("outside the root", File.ReadAllText(Path.Combine(_outside, "secret.txt")));
    }

    [Fact]
    public void Unchanged_paths_read_and_write_normally_and_keep_the_file_mode()
    {
        var path = Path.Combine(_root, "sub", "notes.txt");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        _sandbox.Replace(_sandbox.Authorize("work", "sub/notes.txt", FileOperation.Write), "rewritten"u8);
        using var handle = _sandbox.OpenForRead(_sandbox.Authorize("work", "sub/notes.txt", FileOperation.Read));
        var listed = _sandbox.ReadDirectory(_sandbox.Authorize("work", "sub", FileOperation.List), directory => directory.GetFiles().Select(file => file.Name).ToArray());

        Assert.Equal("rewritten".Length, RandomAccess.GetLength(handle));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(path));
        Assert.Equal(["notes.txt"], listed);
    }

    private static void SwapForLink(string path, string target)
    {
        if (Directory.Exists(path) && !File.GetAttributes(path).HasFlag(FileAttributes.ReparsePoint))
        {
            Directory.Delete(path, recursive: true);
        }
        else
        {
            File.Delete(path);
        }

        File.CreateSymbolicLink(path, target);
    }
}
