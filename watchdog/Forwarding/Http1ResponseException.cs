namespace Fwatchdog.Forwarding;

/// <summary>
/// The upstream's response breaks HTTP/1.1 framing or syntax (RFC 9112): it is refused, never
/// guessed at, and the connection is never used again. The gateway answers 502
/// <c>bad_upstream_response</c> when nothing has been sent to the caller yet.
/// </summary>
internal sealed class Http1ResponseException(string message) : IOException(message);
