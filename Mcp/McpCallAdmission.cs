using Microsoft.AspNetCore.Http;

namespace McpAspire.Mcp;

/// <summary>
/// Decides whether a <c>tools/call</c> may run now. Register one in DI and the request gate in front of
/// <c>MapMcp()</c> asks it before each call reaches the SDK. A refused call is answered at once with HTTP
/// 503, <c>Retry-After</c> and a JSON-RPC "overloaded" error, so a gateway can send it to another server.
/// An admitted call holds its lease until the tool has finished: the gate attaches the admission to the
/// request, and a call-tool filter takes the lease with <see cref="McpAdmission.TakeLease"/> and releases it
/// when the tool returns. A lease nobody took is released when the HTTP request ends.
/// </summary>
public interface IMcpCallAdmission
{
    /// <summary>Admits the call (possibly after queueing) or refuses it.</summary>
    ValueTask<McpAdmission> AdmitAsync(CancellationToken cancellationToken);
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

    /// <summary>
    /// Takes the lease the gate attached to the HTTP request that carries the call; the caller releases it when
    /// the call has really finished, even if the HTTP request ended long before (stateful sessions, a client
    /// that went away, a tool that ignores cancellation). <see langword="null"/> if there is none or it was taken.
    /// </summary>
    public static IDisposable? TakeLease(HttpContext? context) =>
        context?.Features.Get<McpAdmission>() is { } admission ? Interlocked.Exchange(ref admission._lease, null) : null;

    /// <summary>Attaches this admission to the request it admits, for <see cref="TakeLease"/>.</summary>
    public void AttachTo(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Features.Set(this);
    }

    /// <summary>Releases the lease of an admitted call, unless it was taken.</summary>
    public void Dispose() => Interlocked.Exchange(ref _lease, null)?.Dispose();
}
