using System.Diagnostics;
using System.Globalization;

namespace McpAspire.EndToEndTests;

internal static class ProcessProbe
{
    /// <summary>Whether a process with this id is running now.</summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary><paramref name="root"/> and every running process below it: its children, theirs, and so on.</summary>
    public static IReadOnlyList<int> TreeOf(int root)
    {
        var tree = new List<int> { root };
        for (var i = 0; i < tree.Count; i++)
        {
            tree.AddRange(ChildrenOf(tree[i]));
        }

        return tree;
    }

    /// <summary>The ids of the running processes whose parent is <paramref name="parent"/> (read from /proc).</summary>
    public static IReadOnlyList<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                // /proc/PID/stat is "pid (comm) state ppid ..."; comm may contain spaces, so read after the last ')'.
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] != "Z" && int.Parse(fields[1], CultureInfo.InvariantCulture) == parent)
                {
                    children.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
        }

        return children;
    }

    /// <summary>The running processes whose command line has <paramref name="name"/> followed by <paramref name="value"/>.</summary>
    public static IReadOnlyList<int> WithArguments(string name, string value)
    {
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var arguments = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0');
                if (arguments.Zip(arguments.Skip(1)).Any(pair => pair.First == name && pair.Second == value))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
                // Not ours to read.
            }
        }

        return found;
    }

    /// <summary>Waits until none of <paramref name="pids"/> is running, failing with the ones left after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilGoneAsync(IReadOnlyCollection<int> pids, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (pids.Any(IsRunning))
        {
            Assert.True(DateTime.UtcNow < deadline, $"still running {timeout.TotalSeconds:0} s after the stop: {string.Join(", ", pids.Where(IsRunning).Select(ExecutableOf))}");
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>The program a process runs (its /proc/PID/exe), or its id when that cannot be read.</summary>
    public static string ExecutableOf(int pid)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/exe").LinkTarget ?? pid.ToString(CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return pid.ToString(CultureInfo.InvariantCulture);
        }
        catch (UnauthorizedAccessException)
        {
            return pid.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Skips the test when <paramref name="program"/> is not on PATH, or fails it under <c>CI=true</c>, where .ci/run installs it.</summary>
    public static void RequireProgram(string program, string install)
    {
        if (McpAspire.AppHost.Hosting.ExecutableSearch.Find(program) is not null)
        {
            return;
        }

        var missing = $"{program} is not on PATH (install it with '{install}'; .ci/run does).";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail(missing);
        }

        Assert.Skip(missing);
    }
}

