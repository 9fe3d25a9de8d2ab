namespace Fwatchdog.Gateway.Queue;

/// <summary>The queue backend cannot be reached or did not confirm a write; nothing was stored.</summary>
internal sealed class QueueUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
