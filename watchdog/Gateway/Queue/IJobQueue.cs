namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// The queue seam, implemented by the embedded SQLite queue (<see cref="SqliteJobQueue"/>) and
/// the NATS JetStream one (<see cref="NatsJobQueue"/>). A backend reports that it cannot store or
/// read with <see cref="QueueUnavailableException"/>, so callers need not know which one runs. Every
/// method that changes a held job names the lease owner implicitly (this gateway instance) and
/// does nothing when the lease was lost or the job was cancelled meanwhile.
/// </summary>
internal interface IJobQueue : IAsyncDisposable
{
    /// <summary>Stores the job durably; when this returns <see cref="EnqueueStatus.Stored"/>, a SIGKILL cannot lose it.</summary>
    Task<EnqueueResult> EnqueueAsync(JobRequest job, StoredBody body, CancellationToken cancellationToken);

    /// <summary>Leases up to <paramref name="max"/> due jobs (or jobs whose lease expired) for which <paramref name="slots"/> has room.</summary>
    Task<IReadOnlyList<ClaimedJob>> ClaimAsync(int max, ISlotBook slots, CancellationToken cancellationToken);

    /// <summary>Extends the leases of running jobs; returns those no longer ours (cancelled, or taken over).</summary>
    Task<IReadOnlySet<string>> RenewAsync(IReadOnlyCollection<string> callIds, CancellationToken cancellationToken);

    /// <summary>Puts a job back for another attempt at <paramref name="due"/>.</summary>
    Task RetryAsync(string callId, DateTimeOffset due, int statusCode, string error, CancellationToken cancellationToken);

    /// <summary>Records the final outcome; false when the job was cancelled meanwhile. A callback is then pending if one was asked for.</summary>
    Task<bool> CompleteAsync(string callId, JobOutcome outcome, CancellationToken cancellationToken);

    /// <summary>Gives a running job back without counting the attempt (shutdown).</summary>
    Task ReleaseAsync(string callId, CancellationToken cancellationToken);

    /// <summary>Leases pending callbacks that are due and held by nobody.</summary>
    Task<IReadOnlyList<CallbackWork>> ClaimCallbacksAsync(int max, CancellationToken cancellationToken);

    /// <summary>Records one callback attempt: delivered, failed for good, or to retry at <paramref name="retryAt"/>.</summary>
    Task CallbackAttemptedAsync(string callId, CallbackState state, int? statusCode, string? error, DateTimeOffset? retryAt, CancellationToken cancellationToken);

    Task<JobStatus?> GetAsync(string callId, CancellationToken cancellationToken);

    Task<StoredBody?> GetResultAsync(string callId, CancellationToken cancellationToken);

    /// <summary>Cancels a queued call, or a running one unless <paramref name="queuedOnly"/> (then it is left running: <see cref="CancelResult.Running"/>).</summary>
    Task<CancelResult> CancelAsync(string callId, bool queuedOnly, CancellationToken cancellationToken);

    /// <summary>One page of the calls that match <paramref name="query"/>, newest first (creation time, then id).</summary>
    Task<CallPage> ListAsync(CallQuery query, CancellationToken cancellationToken);

    /// <summary>Queues a failed, dead or cancelled call again, with its attempts and callback state reset (dead-letter replay).</summary>
    Task<RequeueResult> RequeueAsync(string callId, CancellationToken cancellationToken);

    /// <summary>Throws when the queue cannot store a call right now (readiness): a small write that must reach the disk or server.</summary>
    Task ProbeWriteAsync(CancellationToken cancellationToken);

    /// <summary>A function's unfinished calls (queued or running) and their request bytes: what the accept bounds count.</summary>
    Task<QueueUsage> UsageAsync(string function, CancellationToken cancellationToken);

    /// <summary>Jobs per state, for metrics and /system/functions.</summary>
    Task<IReadOnlyDictionary<string, long>> CountAsync(CancellationToken cancellationToken);

    /// <summary>Deletes finished jobs older than <paramref name="finishedBefore"/> and their files.</summary>
    Task<int> SweepAsync(DateTimeOffset finishedBefore, CancellationToken cancellationToken);
}
