namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// One page of a listing: the calls, and where the next page starts (null on the last).
/// <paramref name="OlderUnlisted"/>: calls older than those shown may exist that the queue did not
/// read (NATS reads a bounded window of the newest records).
/// </summary>
internal sealed record CallPage(IReadOnlyList<JobStatus> Calls, CallCursor? Next, bool OlderUnlisted)
{
    /// <summary>
    /// The page from up to <paramref name="limit"/> + 1 calls in listing order: the one past the
    /// limit is read only to tell that there is a next page, which starts after the last one shown.
    /// </summary>
    public static CallPage Of(List<JobStatus> calls, int limit, bool olderUnlisted)
    {
        if (calls.Count <= limit)
        {
            return new CallPage(calls, null, olderUnlisted);
        }

        calls.RemoveRange(limit, calls.Count - limit);
        return new CallPage(calls, CallCursor.Of(calls[^1]), olderUnlisted);
    }
}
