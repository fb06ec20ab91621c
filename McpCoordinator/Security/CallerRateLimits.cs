using System.Globalization;
using System.Threading.RateLimiting;
using McpAspire.Mcp;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;

namespace McpAspire.McpCoordinator.Security;

/// <summary>
/// Holds each caller to <see cref="RateLimitOptions"/> with ASP.NET Core's rate limiter: a token bucket and a
/// concurrency limit on the POSTs to <c>/mcp</c>, a concurrency limit on GET streams, and token buckets on single
/// tools. Over a limit, the request gets 429 with <c>Retry-After</c> and a JSON-RPC error, and nothing runs.
/// </summary>
public sealed class CallerRateLimits : IDisposable
{
    /// <summary>The endpoint policy of POST and DELETE <c>/mcp</c>.</summary>
    public const string RequestsPolicy = "mcpaspire-requests";

    /// <summary>The endpoint policy of GET <c>/mcp</c>.</summary>
    public const string StreamsPolicy = "mcpaspire-streams";

    /// <summary>The JSON-RPC error code of a refused request: the range the specification leaves to servers.</summary>
    public const int RateLimitedCode = -32029;

    private readonly PartitionedRateLimiter<(string Tool, string Caller)>? _tools;

    /// <summary>Builds the per-tool limiters from <paramref name="options"/>.</summary>
    public CallerRateLimits(IOptions<RateLimitOptions> options, ToolAccess access)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(access);
        var limits = options.Value;
        IsEnabled = limits.Enabled ?? access.IsEnabled;
        if (IsEnabled && limits.Tools.Count > 0)
        {
            _tools = PartitionedRateLimiter.Create<(string Tool, string Caller), (string, string)>(key =>
                limits.Tools.TryGetValue(key.Tool, out var limit)
                    ? RateLimitPartition.GetTokenBucketLimiter(key, _ => Bucket(limit.CallsPerSecond, limit.Burst ?? limit.CallsPerSecond))
                    : RateLimitPartition.GetNoLimiter(key));
        }
    }

    /// <summary>Whether limits apply.</summary>
    public bool IsEnabled { get; }

    /// <summary>
    /// Takes a permit for one call of <paramref name="tool"/> by <paramref name="caller"/>; <see langword="null"/> when
    /// the call may go on, otherwise how long the caller should wait.
    /// </summary>
    public TimeSpan? RefuseToolCall(Caller caller, string tool)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (_tools is null)
        {
            return null;
        }

        using var lease = _tools.AttemptAcquire((tool, caller.Key));
        return lease.IsAcquired ? null : RetryAfter(lease);
    }

    /// <summary>Answers a refused request: 429, <c>Retry-After</c> in whole seconds, and a JSON-RPC error that says which limit.</summary>
    public static Task WriteRefusalAsync(HttpContext context, string limit, TimeSpan retryAfter, RequestId id = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status429TooManyRequests, RateLimitedCode,
            $"Too Many Requests: {Caller.Of(context).DisplayName} is over {limit}. Retry after {seconds} s.", id);
    }

    /// <inheritdoc/>
    public void Dispose() => _tools?.Dispose();

    /// <summary>Registers the rate limiter and its policies; the endpoints opt in with <see cref="CoordinatorSecurity.RequireCallerLimit{TBuilder}"/>.</summary>
    internal static void Add(IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>()
            .BindConfiguration(RateLimitOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<CallerRateLimits>();
        services.AddRateLimiter(limiter =>
        {
            limiter.OnRejected = (rejected, _) => new ValueTask(WriteRefusalAsync(
                rejected.HttpContext,
                rejected.HttpContext.Request.Method == HttpMethods.Get ? "its limit of open streams" : "its request rate or concurrency limit",
                RetryAfter(rejected.Lease)));
            limiter.AddPolicy(RequestsPolicy, context =>
            {
                var limits = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
                return RateLimitPartition.Get(Caller.Of(context).Key, _ => RateLimiter.CreateChained(
                    new TokenBucketRateLimiter(Bucket(limits.RequestsPerSecond, limits.Burst)),
                    new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = limits.ConcurrentRequests, QueueLimit = 0 })));
            });
            limiter.AddPolicy(StreamsPolicy, context =>
            {
                var limits = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
                return RateLimitPartition.GetConcurrencyLimiter(Caller.Of(context).Key, _ => new ConcurrencyLimiterOptions { PermitLimit = limits.MaxStreams, QueueLimit = 0 });
            });
        });
    }

    private static TokenBucketRateLimiterOptions Bucket(int perSecond, int burst) => new()
    {
        TokenLimit = burst,
        TokensPerPeriod = perSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    private static TimeSpan RetryAfter(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
}
