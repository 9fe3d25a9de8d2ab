namespace Fwatchdog.Gateway.Queue;

/// <summary>A job this gateway now holds the lease on, with the attempt it is about to make (1-based).</summary>
internal sealed record ClaimedJob(JobRequest Request, StoredBody Body, int Attempt)
{
    /// <summary>When the attempt became due (the accept, or the retry time): the start of its queue wait.</summary>
    public DateTimeOffset? DueAt { get; init; }
}
