namespace Fwatchdog.Gateway.Queue;

/// <summary>Where an async call is; the lower-case name is what the status API shows.</summary>
internal enum JobState
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Dead,
    Cancelled,
}
