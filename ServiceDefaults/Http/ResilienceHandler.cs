namespace McpAspire.ServiceDefaults.Http;

/// <summary>
/// Runs each request through its client's <see cref="StandardPipeline"/>: a permit from the concurrency
/// limiter first, then the Polly strategies around every attempt.
/// </summary>
internal sealed class ResilienceHandler(StandardPipeline pipeline, string clientName) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var lease = await pipeline.Limiter.AcquireAsync(1, cancellationToken);
        if (!lease.IsAcquired)
        {
            throw new ConcurrencyLimitRejectedException(
                $"HttpClient '{clientName}' is at its concurrency limit ({pipeline.Limits.PermitLimit} in flight, {pipeline.Limits.QueueLimit} queued); {request.Method} {request.RequestUri} was not sent.");
        }

        return await pipeline.Strategies.ExecuteAsync(
            static (state, token) => new ValueTask<HttpResponseMessage>(state.Handler.SendAttemptAsync(state.Request, token)),
            (Handler: this, Request: request),
            cancellationToken);
    }

    private Task<HttpResponseMessage> SendAttemptAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.SendAsync(request, cancellationToken);
}
