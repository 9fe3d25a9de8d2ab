namespace Fwatchdog.Gateway.Queue;

/// <summary>How an attempt ended for good: the state to record, the function's answer and the reason.</summary>
internal sealed record JobOutcome(JobState State, int StatusCode, string? Error, string? ContentType, StoredBody Result, TimeSpan Duration);
