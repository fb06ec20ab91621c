using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace McpAspire.ServiceDefaults.Hosting;

/// <summary>
/// Turns a configuration error that escapes <c>Program.cs</c> (an options class failing validation at
/// start-up, or an <see cref="InvalidConfigurationException"/>) into one line on stderr that names
/// each bad key, and exit code <see cref="ExitCode"/>, instead of a stack trace.
/// </summary>
public static partial class StartupErrors
{
    /// <summary>The exit code of a service stopped by invalid configuration (<c>EX_CONFIG</c>).</summary>
    public const int ExitCode = 78;

    private static int _installed;

    /// <summary>Installs the handler once per process.</summary>
    public static void Install()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 0)
        {
            AppDomain.CurrentDomain.UnhandledException += (_, e) =>
            {
                if (e.ExceptionObject is Exception error && Describe(error) is { } message)
                {
                    Console.Error.WriteLine($"{AppDomain.CurrentDomain.FriendlyName}: invalid configuration: {message}");
                    Console.Error.Flush();
                    Environment.Exit(ExitCode);
                }
            };
        }
    }

    /// <summary>The configuration problems in <paramref name="error"/> as one line, or <see langword="null"/> if it is not a configuration error.</summary>
    public static string? Describe(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        for (var current = error; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case OptionsValidationException validation:
                    return string.Join(" ", validation.Failures.Select(Unwrap));
                case InvalidConfigurationException invalid:
                    return invalid.Message;
                case AggregateException aggregate:
                    var parts = aggregate.InnerExceptions.Select(Describe).ToArray();
                    return parts.All(part => part is not null) ? string.Join(" ", parts) : null;
            }
        }

        return null;
    }

    /// <summary>DataAnnotations wraps each message in "validation failed for 'T' members: 'M' with the error: '...'."; keep the message.</summary>
    private static string Unwrap(string failure) =>
        DataAnnotationsFailure().Match(failure) is { Success: true } match ? match.Groups["message"].Value : failure;

    [GeneratedRegex(@"with the error: '(?<message>.*)'\.?$", RegexOptions.Singleline)]
    private static partial Regex DataAnnotationsFailure();
}
