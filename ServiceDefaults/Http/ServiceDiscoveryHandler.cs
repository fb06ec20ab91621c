namespace McpAspire.ServiceDefaults.Http;

/// <summary>Rewrites each attempt's address through <see cref="ServiceEndpointResolver"/>, so a retry can reach another endpoint.</summary>
internal sealed class ServiceDiscoveryHandler(ServiceEndpointResolver resolver) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is { } requested)
        {
            var resolved = resolver.Resolve(requested);
            if (resolved != requested)
            {
                request.RequestUri = resolved;
                var response = base.SendAsync(request, cancellationToken);
                return RestoreAsync(response, request, requested);
            }
        }

        return base.SendAsync(request, cancellationToken);
    }

    /// <summary>Puts the logical address back, so the next attempt resolves again (and may pick another endpoint).</summary>
    private static async Task<HttpResponseMessage> RestoreAsync(Task<HttpResponseMessage> response, HttpRequestMessage request, Uri requested)
    {
        try
        {
            return await response;
        }
        finally
        {
            request.RequestUri = requested;
        }
    }
}
