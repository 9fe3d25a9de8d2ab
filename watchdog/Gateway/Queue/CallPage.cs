namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// One page of a listing: the calls, and where the next page starts (null on the last).
/// <paramref name="OlderUnlisted"/>: calls older than those shown may exist that the queue did not
/// read (NATS reads a bounded window of the newest records).
/// </summary>
internal sealed record CallPage(IReadOnlyList<JobStatus> Calls, CallCursor? Next, bool OlderUnlisted);
