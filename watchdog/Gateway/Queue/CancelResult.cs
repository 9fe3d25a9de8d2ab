namespace Fwatchdog.Gateway.Queue;

/// <summary>What a cancel did: nothing (unknown or already finished), or stopped a queued or running call.</summary>
internal enum CancelResult
{
    NotFound,
    AlreadyFinished,
    CancelledQueued,
    CancelledRunning,
}
