using System.Collections.Concurrent;

namespace McpAspire.McpNode.Packs.Files;

/// <summary>One access to the sandbox, allowed or not.</summary>
/// <param name="At">When it happened.</param>
/// <param name="Who">The caller: the authenticated user, else the client's address.</param>
/// <param name="Operation">list, read or write.</param>
/// <param name="Root">The root asked for.</param>
/// <param name="Path">The path asked for, as given.</param>
/// <param name="Decision">allowed or denied.</param>
/// <param name="Reason">Why it was denied, or null.</param>
public sealed record FileAuditEntry(DateTimeOffset At, string Who, string Operation, string Root, string Path, string Decision, string? Reason);

/// <summary>
/// The audit trail of the <c>files</c> pack: every access, allowed or denied, as a structured log record
/// (category <c>McpAspire.Audit.Files</c>, event 4100) with who, what, root, path and decision. The most
/// recent entries are also kept in memory for inspection.
/// </summary>
public sealed partial class FileAuditLog(ILoggerFactory loggers, IHttpContextAccessor http, TimeProvider time)
{
    private const int Kept = 1000;

    private readonly ILogger _logger = loggers.CreateLogger("McpAspire.Audit.Files");
    private readonly ConcurrentQueue<FileAuditEntry> _recent = new();

    /// <summary>The latest entries, oldest first (up to 1000).</summary>
    public IReadOnlyList<FileAuditEntry> Recent => [.. _recent];

    /// <summary>Records one access.</summary>
    public void Record(FileOperation operation, string root, string path, string? deniedBecause)
    {
        var context = http.HttpContext;
        var who = context?.User.Identity is { IsAuthenticated: true, Name: { } name }
            ? name
            : $"anonymous@{context?.Connection.RemoteIpAddress?.ToString() ?? "local"}";
        var entry = new FileAuditEntry(time.GetUtcNow(), who, operation.ToString().ToLowerInvariant(), root, path, deniedBecause is null ? "allowed" : "denied", deniedBecause);
        _recent.Enqueue(entry);
        while (_recent.Count > Kept && _recent.TryDequeue(out _))
        {
        }

        LogAccess(entry.Who, entry.Operation, entry.Root, entry.Path, entry.Decision, entry.Reason);
    }

    [LoggerMessage(EventId = 4100, Level = LogLevel.Information, Message = "File access {Decision}: {Who} {Operation} {Root}:{Path} {Reason}")]
    private partial void LogAccess(string who, string operation, string root, string path, string decision, string? reason);
}
