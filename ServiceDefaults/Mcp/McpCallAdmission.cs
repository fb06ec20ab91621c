namespace McpAspire.ServiceDefaults.Mcp;

/// <summary>
/// Decides whether a <c>tools/call</c> may run now. Register one in DI and the <c>/mcp</c> endpoint asks
/// it before each call: an admitted call holds its lease until its answer has been sent; a refused one
/// is answered at once with HTTP 503, <c>Retry-After</c> and a JSON-RPC "overloaded" error, so a
/// gateway can send it to another server.
/// </summary>
public interface IMcpCallAdmission
{
    /// <summary>Admits the call (possibly after queueing) or refuses it.</summary>
    ValueTask<McpAdmission> AdmitAsync(McpHttpRequest request, CancellationToken cancellationToken);
}

/// <summary>The outcome of <see cref="IMcpCallAdmission.AdmitAsync"/>.</summary>
public sealed class McpAdmission : IDisposable
{
    private IDisposable? _lease;

    private McpAdmission(IDisposable? lease, string? refusal, TimeSpan retryAfter)
    {
        _lease = lease;
        Refusal = refusal;
        RetryAfter = retryAfter;
    }

    /// <summary>Why the call was refused, or <see langword="null"/> when it was admitted.</summary>
    public string? Refusal { get; }

    /// <summary>When a refused caller should try again.</summary>
    public TimeSpan RetryAfter { get; }

    /// <summary>An admitted call; <paramref name="lease"/> is released when the admission is disposed.</summary>
    public static McpAdmission Admitted(IDisposable lease) => new(lease, null, TimeSpan.Zero);

    /// <summary>A refused call.</summary>
    public static McpAdmission Refused(string reason, TimeSpan retryAfter) => new(null, reason, retryAfter);

    /// <summary>Releases the lease of an admitted call.</summary>
    public void Dispose() => Interlocked.Exchange(ref _lease, null)?.Dispose();
}
