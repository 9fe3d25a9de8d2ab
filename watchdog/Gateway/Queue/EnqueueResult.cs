namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// The answer to an enqueue: stored (durably), an earlier call with the same Idempotency-Key
/// and request (nothing new was queued; its token is given again, since the first 202 may have
/// been lost), the same key with another request, or a call id that is already taken.
/// </summary>
internal readonly record struct EnqueueResult(string CallId, EnqueueStatus Status, string? Token = null);

internal enum EnqueueStatus
{
    Stored,
    Replayed,
    KeyReused,
    CallIdTaken,
}
