namespace Fwatchdog.Gateway.Queue;

/// <summary>What a cancel did: nothing (unknown, already finished, or running when only a queued call was to be cancelled), or stopped a queued or running call.</summary>
internal enum CancelResult
{
    NotFound,
    AlreadyFinished,
    Running,
    CancelledQueued,
    CancelledRunning,
}
