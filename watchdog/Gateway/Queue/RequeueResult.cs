namespace Fwatchdog.Gateway.Queue;

/// <summary>What a replay did: nothing (unknown, or not finished), or queued the call again.</summary>
internal enum RequeueResult
{
    NotFound,
    NotFinished,
    Requeued,
}
