namespace Fwatchdog.Forwarding;

/// <summary>
/// Why <see cref="Http1Forwarder.ForwardAsync"/> sent no answer. The forwarder knows upstreams,
/// not what they serve: each app maps these to its own failures (the gateway to
/// <c>X-Gateway-Reason</c> tokens, mode=http to <c>X-Watchdog-Reason</c> ones).
/// </summary>
internal enum ForwarderError
{
    /// <summary>The upstream's answer was passed on, whatever its status.</summary>
    None,

    /// <summary>No connection could be made; <see cref="ForwardResult.ConnectError"/> says why.</summary>
    ConnectFailed,

    /// <summary>The connection broke or closed before the upstream's answer began.</summary>
    NoResponse,

    /// <summary>The upstream's answer broke HTTP/1.1 (<see cref="Http1ResponseException"/>) before any of it was sent on.</summary>
    BadResponse,

    /// <summary>The call's token fired before the answer began; which of the caller's reasons fired is the caller's to tell.</summary>
    Cancelled,

    /// <summary>The caller's body crossed a size limit of the server it came in on (Kestrel's 413).</summary>
    RequestBodyTooLarge,

    /// <summary>The caller's body broke HTTP/1.1 (bad chunked framing, an early end).</summary>
    RequestBodyMalformed,
}
