namespace Fwatchdog.Execution;

/// <summary>How a function call ended. The HTTP layer maps each to one status code.</summary>
internal enum FunctionOutcome
{
    /// <summary>The process exited with code 0.</summary>
    Succeeded,

    /// <summary>The process exited with a non-zero code or was killed by a signal.</summary>
    Failed,

    /// <summary>The process could not be started (missing or not executable).</summary>
    StartFailed,

    /// <summary><c>exec_timeout</c> fired; the process group was stopped.</summary>
    TimedOut,

    /// <summary>The request body did not arrive within <c>read_timeout</c>.</summary>
    ReadTimedOut,

    /// <summary>The response was not written within <c>write_timeout</c>.</summary>
    WriteTimedOut,

    /// <summary>The request body crossed <c>max_request_bytes</c>.</summary>
    BodyTooLarge,

    /// <summary>The request body breaks HTTP/1.1 (bad chunked framing, an early end).</summary>
    BadRequestBody,

    /// <summary>The client went away before the response was written.</summary>
    ClientGone,

    /// <summary>The watchdog is shutting down and stopped the call.</summary>
    ShuttingDown,

    /// <summary>The caller, still sending its body, left more output unread than <c>max_spool_bytes</c>.</summary>
    SpoolFull,

    /// <summary>cgi_response is on and the header block the process wrote is malformed.</summary>
    BadCgiResponse,
}
