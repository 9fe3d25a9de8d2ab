namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// One attempt of an async call as both queues store it (times in Unix milliseconds): its number,
/// counted on across replays; when it started; and, once it ended, when, with the function's status
/// and the reason it failed. An attempt still running has no <see cref="FinishedAt"/>.
/// </summary>
internal sealed record CallAttempt(int Attempt, long StartedAt, long? FinishedAt = null, int? StatusCode = null, string? Error = null)
{
    /// <summary>How many attempts a call keeps, the newest: enough to see a retry pattern, small enough to list 500 calls quickly.</summary>
    public const int Kept = 20;

    /// <summary>The error of an attempt whose gateway stopped renewing its lease (killed, or cut off from the queue) and that another claim took over.</summary>
    public const string LeaseExpired = "lease expired";

    /// <summary>The error of a running attempt that DELETE cancelled.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>
    /// <paramref name="history"/> with a new attempt started at <paramref name="now"/>, numbered after
    /// the last one kept (or after <paramref name="attempts"/> for a call stored before histories); an
    /// attempt left open by a gateway whose lease ran out is closed first as <see cref="LeaseExpired"/>.
    /// </summary>
    public static CallAttempt[] Started(CallAttempt[]? history, int attempts, long now)
    {
        var kept = history ?? [];
        if (kept is [.., { FinishedAt: null } open])
        {
            kept = [.. kept[..^1], open with { FinishedAt = now, Error = LeaseExpired }];
        }

        var next = new CallAttempt((kept is [.., var last] ? last.Attempt : attempts) + 1, now);
        return [.. kept.Skip(Math.Max(0, kept.Length + 1 - Kept)), next];
    }

    /// <summary><paramref name="history"/> with its open attempt ended at <paramref name="now"/>.</summary>
    public static CallAttempt[]? Finished(CallAttempt[]? history, long now, int? statusCode, string? error) =>
        history is [.., { FinishedAt: null } open]
            ? [.. history[..^1], open with { FinishedAt = now, StatusCode = statusCode is 0 ? null : statusCode, Error = string.IsNullOrEmpty(error) ? null : error }]
            : history;

    /// <summary><paramref name="history"/> without its open attempt: given back unused (shutdown), it never counted.</summary>
    public static CallAttempt[]? Dropped(CallAttempt[]? history) =>
        history is [.., { FinishedAt: null }] ? history[..^1] : history;
}
