namespace Fwatchdog.Gateway.Queue;

/// <summary>Where the callback of a finished call is.</summary>
internal enum CallbackState
{
    None,
    Pending,
    Delivered,
    Failed,
}
