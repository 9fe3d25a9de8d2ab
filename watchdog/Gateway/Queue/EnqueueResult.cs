namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// The answer to an enqueue: stored (durably), an earlier call with the same Idempotency-Key
/// (nothing new was queued), or a call id that is already taken.
/// </summary>
internal readonly record struct EnqueueResult(string CallId, EnqueueStatus Status);

internal enum EnqueueStatus
{
    Stored,
    Replayed,
    CallIdTaken,
}
