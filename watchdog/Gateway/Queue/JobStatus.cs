namespace Fwatchdog.Gateway.Queue;

/// <summary>What the status API reports about one call.</summary>
internal sealed record JobStatus(
    string CallId,
    string Function,
    JobState State,
    int Attempts,
    int MaxAttempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    DateTimeOffset? NextAttemptAt,
    int? StatusCode,
    string? Error,
    Uri? CallbackUrl,
    CallbackState CallbackState,
    int CallbackAttempts,
    int? CallbackStatusCode,
    string? CallbackError,
    bool HasResult,
    string? ResultContentType,
    long ResultLength)
{
    /// <summary>The call this one continues (its X-Parent-Call-Id), e.g. the call whose callback started it.</summary>
    public string? ParentCallId { get; init; }

    /// <summary>The trace the call is part of (the one given or started at accept), or null for a call stored before traces were kept.</summary>
    public string? TraceId { get; init; }

    /// <summary>The secret that opens the call (never shown); null for a call stored before tokens existed.</summary>
    public string? Token { get; init; }

    /// <summary>Its attempts, oldest first: at most the last <see cref="CallAttempt.Kept"/>, numbered on across replays.</summary>
    public IReadOnlyList<CallAttempt> History { get; init; } = [];
}
