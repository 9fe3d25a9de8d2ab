using System.Globalization;
using System.Net.Http.Headers;

namespace Fwatchdog.Gateway.Async;

/// <summary>
/// When to try again: capped exponential back-off with full jitter (a random delay between the
/// initial wait and initial × 2^(attempt-1), capped at max_retry_wait), and Retry-After when
/// the function sent a longer one (also capped).
/// </summary>
internal sealed class RetryPolicy(IReadOnlySet<int> retryCodes, TimeSpan initial, TimeSpan max)
{
    public bool IsRetryable(int status) => retryCodes.Contains(status);

    public TimeSpan Delay(int attempt, RetryConditionHeaderValue? retryAfter, DateTimeOffset now, Random random)
    {
        var ceiling = Math.Min(max.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30)));
        var backoff = TimeSpan.FromMilliseconds(initial.TotalMilliseconds + (random.NextDouble() * Math.Max(0, ceiling - initial.TotalMilliseconds)));
        var asked = retryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - now,
            _ => TimeSpan.Zero,
        };
        var delay = asked > backoff ? asked : backoff;
        return delay > max ? max : delay;
    }

    public static string Format(TimeSpan delay) => delay.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
}
