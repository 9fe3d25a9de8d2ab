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
    /// The longest error text stored, an attempt's or a call's: a function writes its own reason
    /// (X-Watchdog-Reason, up to 64 KB), and 20 attempts of that would pass NATS's 1 MB record
    /// and make a listing page of 500 calls hundreds of MB.
    /// </summary>
    public const int MaxErrorLength = 512;

    /// <summary><paramref name="error"/> cut to <see cref="MaxErrorLength"/> characters, never inside a surrogate pair, with "…" marking the cut.</summary>
    public static string? Cut(string? error)
    {
        if (error is null || error.Length <= MaxErrorLength)
        {
            return error;
        }

        var kept = MaxErrorLength - 1;
        if (char.IsHighSurrogate(error[kept - 1]))
        {
            kept--;
        }

        return string.Concat(error.AsSpan(0, kept), "…");
    }

    /// <summary>
    /// <paramref name="history"/> at a claim at <paramref name="now"/> of a call that made
    /// <paramref name="attempts"/> of its <paramref name="maxAttempts"/>: an attempt left open by a
    /// gateway whose lease ran out is closed as <see cref="LeaseExpired"/>; then, when an attempt is
    /// left to run, a new one starts, numbered after the last one kept (or after
    /// <paramref name="attempts"/> for a call stored before histories). A claim with none left only
    /// gives the call up, so it adds none: the history lists only attempts that ran.
    /// </summary>
    public static CallAttempt[] Started(CallAttempt[]? history, int attempts, int maxAttempts, long now)
    {
        var kept = history ?? [];
        if (kept is [.., { FinishedAt: null } open])
        {
            kept = [.. kept[..^1], open with { FinishedAt = now, Error = LeaseExpired }];
        }

        if (attempts >= maxAttempts)
        {
            return kept;
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
