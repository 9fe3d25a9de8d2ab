namespace Fwatchdog.Streaming;

/// <summary>The spool reached <c>max_spool_bytes</c>, or the disk under it is full.</summary>
internal sealed class SpoolFullException(string message, Exception? inner = null) : IOException(message, inner);
