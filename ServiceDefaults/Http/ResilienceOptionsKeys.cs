using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

namespace McpAspire.ServiceDefaults.Http;

/// <summary>
/// Checks the standard resilience handler's options (bound from <see cref="SectionName"/>) by the handler's own rules,
/// and says which configuration key is wrong. The handler validates them too, at start-up, but its messages name
/// members (<c>AttemptTimeout.Timeout</c>) rather than keys, and it does not check the concurrency limiter's permits
/// until the first request.
/// </summary>
internal sealed class ResilienceOptionsKeys : IValidateOptions<HttpStandardResilienceOptions>
{
    /// <summary>The configuration section the service defaults bind the handler's options from.</summary>
    public const string SectionName = "HttpResilience";

    public ValidateOptionsResult Validate(string? name, HttpStandardResilienceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        Annotated(errors, nameof(options.TotalRequestTimeout), options.TotalRequestTimeout);
        Annotated(errors, nameof(options.Retry), options.Retry);
        Annotated(errors, nameof(options.CircuitBreaker), options.CircuitBreaker);
        Annotated(errors, nameof(options.AttemptTimeout), options.AttemptTimeout);
        if (options.RateLimiter?.DefaultRateLimiterOptions is { } limiter)
        {
            if (limiter.PermitLimit < 1)
            {
                errors.Add($"{SectionName}:RateLimiter:DefaultRateLimiterOptions:PermitLimit ({limiter.PermitLimit}) must be at least 1.");
            }

            if (limiter.QueueLimit < 0)
            {
                errors.Add($"{SectionName}:RateLimiter:DefaultRateLimiterOptions:QueueLimit ({limiter.QueueLimit}) must not be negative.");
            }
        }

        var total = options.TotalRequestTimeout?.Timeout;
        var attempt = options.AttemptTimeout?.Timeout;
        if (attempt > total)
        {
            errors.Add($"{SectionName}:AttemptTimeout:Timeout ({Seconds(attempt)}) must not exceed {SectionName}:TotalRequestTimeout:Timeout ({Seconds(total)}).");
        }

        if (options.CircuitBreaker?.SamplingDuration is { } sampling && attempt is { } perAttempt && sampling < perAttempt * 2)
        {
            errors.Add($"{SectionName}:CircuitBreaker:SamplingDuration ({Seconds(sampling)}) must be at least twice {SectionName}:AttemptTimeout:Timeout ({Seconds(perAttempt)}), or the breaker cannot see a timed-out attempt.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Annotated(List<string> errors, string strategy, object? options)
    {
        if (options is null)
        {
            errors.Add($"{SectionName}:{strategy} is required.");
            return;
        }

        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            return;
        }

        foreach (var result in results)
        {
            var member = result.MemberNames.FirstOrDefault() ?? "?";
            errors.Add($"{SectionName}:{strategy}:{member}: {result.ErrorMessage}");
        }
    }

    private static string Seconds(TimeSpan? value) =>
        value is { } time ? time.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s" : "unset";
}
