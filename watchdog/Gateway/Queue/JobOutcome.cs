namespace Fwatchdog.Gateway.Queue;

/// <summary>How an attempt ended for good: the state to record, the function's answer and the reason.</summary>
internal sealed record JobOutcome(JobState State, int StatusCode, string? Error, string? ContentType, StoredBody Result, TimeSpan Duration)
{
    /// <summary>Why the last attempt itself failed, when <see cref="Error"/> says more about the call (a dead call's "gave up after 5 attempts; last: ..."); null when it is the same.</summary>
    public string? AttemptError { get; init; }
}
