namespace Fwatchdog.Gateway.Queue;

/// <summary>A function's calls that are not finished yet (queued, running) and the bytes of their request bodies.</summary>
internal readonly record struct QueueUsage(long Calls, long Bytes);
