using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Extensions.Options;

namespace McpAspire.ServiceDefaults.Http;

/// <summary>
/// Validates <see cref="HttpStandardResilienceOptions"/> with the rules of Microsoft's standard handler:
/// each strategy's own ranges (Polly's annotations), an attempt timeout no longer than the total
/// timeout, and a circuit-breaker sampling window at least twice the attempt timeout. Each error names
/// its configuration key.
/// </summary>
internal sealed class HttpStandardResilienceOptionsValidator : IValidateOptions<HttpStandardResilienceOptions>
{
    private const string Section = HttpStandardResilienceOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, HttpStandardResilienceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        Annotated(errors, nameof(options.RateLimiter), options.RateLimiter);
        Annotated(errors, nameof(options.TotalRequestTimeout), options.TotalRequestTimeout);
        Annotated(errors, nameof(options.Retry), options.Retry);
        Annotated(errors, nameof(options.CircuitBreaker), options.CircuitBreaker);
        Annotated(errors, nameof(options.AttemptTimeout), options.AttemptTimeout);

        var total = options.TotalRequestTimeout?.Timeout;
        var attempt = options.AttemptTimeout?.Timeout;
        if (attempt > total)
        {
            errors.Add($"{Section}:AttemptTimeout:Timeout ({Seconds(attempt)}) must not exceed {Section}:TotalRequestTimeout:Timeout ({Seconds(total)}).");
        }

        if (options.CircuitBreaker?.SamplingDuration is { } sampling && attempt is { } perAttempt && sampling < perAttempt * 2)
        {
            errors.Add($"{Section}:CircuitBreaker:SamplingDuration ({Seconds(sampling)}) must be at least twice {Section}:AttemptTimeout:Timeout ({Seconds(perAttempt)}), or the breaker cannot see a timed-out attempt.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Annotated(List<string> errors, string strategy, object? options)
    {
        if (options is null)
        {
            errors.Add($"{Section}:{strategy} is required.");
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
            errors.Add($"{Section}:{strategy}:{member}: {result.ErrorMessage}");
        }
    }

    private static string Seconds(TimeSpan? value) =>
        value is { } time ? time.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s" : "unset";
}
