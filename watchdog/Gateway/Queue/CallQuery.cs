namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// Which calls a listing shows, newest first: of one function (or all), in some states (or any),
/// made at or after <paramref name="Since"/>, at most <paramref name="Limit"/> of them, from
/// <paramref name="After"/> on (the position where the previous page ended).
/// </summary>
internal sealed record CallQuery(string? Function, IReadOnlySet<JobState>? States, DateTimeOffset? Since, int Limit, CallCursor? After)
{
    public bool Matches(JobStatus status) =>
        (Function is null || status.Function == Function)
        && (States is null || States.Contains(status.State))
        && (Since is null || status.CreatedAt >= Since)
        && (After is null || After.Value.IsBefore(status.CreatedAt.ToUnixTimeMilliseconds(), status.CallId));
}
