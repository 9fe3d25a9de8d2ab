namespace Fwatchdog.Gateway.Queue;

/// <summary>A job this gateway now holds the lease on, with the attempt it is about to make (1-based).</summary>
internal sealed record ClaimedJob(JobRequest Request, StoredBody Body, int Attempt);
