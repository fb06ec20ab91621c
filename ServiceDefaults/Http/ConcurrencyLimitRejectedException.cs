using Polly;

namespace McpAspire.ServiceDefaults.Http;

/// <summary>
/// A request was refused before it was sent because the client already has as many requests in flight
/// (and waiting) as <see cref="HttpConcurrencyLimiterOptions"/> allows. Nothing reached the server.
/// </summary>
public sealed class ConcurrencyLimitRejectedException : ExecutionRejectedException
{
    /// <summary>Creates the exception with a default message.</summary>
    public ConcurrencyLimitRejectedException()
        : base("The HttpClient's concurrency limit was reached; the request was not sent.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ConcurrencyLimitRejectedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public ConcurrencyLimitRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
