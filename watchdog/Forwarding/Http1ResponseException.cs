namespace Fwatchdog.Forwarding;

/// <summary>
/// The upstream's response breaks HTTP/1.1 framing or syntax (RFC 9112): it is refused, never
/// guessed at, and the connection is never used again. When nothing has been sent to the caller
/// yet, the forwarder reports it as <see cref="ForwarderError.BadResponse"/>.
/// </summary>
internal sealed class Http1ResponseException(string message) : IOException(message);
