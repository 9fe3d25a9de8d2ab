using System.Diagnostics;

namespace Fwatchdog.Tracing;

/// <summary>
/// One span of ours: the context that names it as the parent of what it calls, and the Activity
/// that records it when spans are exported (null otherwise, and every method is then a no-op).
/// </summary>
internal readonly struct TraceSpan(Activity? activity, TraceContext context) : IDisposable
{
    /// <summary>The context to send on: this span's trace, this span as the parent.</summary>
    public TraceContext Context => context;

    public bool Recording => activity is not null;

    /// <summary>Sets an attribute; generic, so a number is boxed only when the span records.</summary>
    public void Tag<T>(string key, T value) => activity?.SetTag(key, value);

    /// <summary>Marks the span as failed, with why.</summary>
    public void Fail(string description) => activity?.SetStatus(ActivityStatusCode.Error, description);

    /// <summary>Ends the span (at <paramref name="endTime"/> when given); ending it again does nothing.</summary>
    public void End(DateTimeOffset endTime = default)
    {
        if (activity is null || activity.IsStopped)
        {
            return;
        }

        if (endTime != default)
        {
            activity.SetEndTime(endTime.UtcDateTime);
        }

        activity.Stop();
    }

    public void Dispose() => End();
}
