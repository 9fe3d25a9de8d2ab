namespace Fwatchdog.Gateway.Queue;

/// <summary>A callback to deliver (first try, a retry, or one left over by a gateway that died).</summary>
internal sealed record CallbackWork(
    string CallId,
    string Function,
    Uri Url,
    JobState State,
    int StatusCode,
    string? ContentType,
    StoredBody Result,
    TimeSpan Duration,
    int Attempts,
    int MaxAttempts,
    int CallbackAttempt)
{
    /// <summary>The trace context stored with the call at accept: the callback is a span in that trace.</summary>
    public Tracing.TraceContext? Trace { get; init; }
}
