namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// The lower-case names of job and callback states, as both queues store them and as the status
/// API, the callback headers, the logs and the metrics show them.
/// </summary>
internal static class QueueNames
{
    public static string Name(JobState state) => state.ToString().ToLowerInvariant();

    public static string Name(CallbackState state) => state.ToString().ToLowerInvariant();
}
