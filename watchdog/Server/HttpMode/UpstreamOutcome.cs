using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Server.HttpMode;

/// <summary>How one mode=http call ended. <see cref="UpstreamOutcomes.Describe"/> maps each to its status and reason.</summary>
internal enum UpstreamOutcome
{
    /// <summary>The upstream's answer was passed on, whatever its status.</summary>
    Answered,

    /// <summary>The process is starting or restarting, or not ready yet.</summary>
    NotReady,

    /// <summary>The process runs but the connection failed or broke before an answer.</summary>
    Unreachable,

    /// <summary>The call was cancelled before an answer; which token fired decides the outcome below.</summary>
    Cancelled,

    /// <summary><c>exec_timeout</c> passed: the upstream request was cancelled, the process lives on.</summary>
    TimedOut,

    /// <summary><c>write_timeout</c> passed: the connection is aborted, as in the classic watchdog.</summary>
    WriteTimedOut,

    /// <summary>The client went away; nothing is sent.</summary>
    ClientGone,

    /// <summary>The drain after SIGTERM ran out while the call was in flight.</summary>
    ShuttingDown,

    /// <summary>The request body is larger than <c>max_request_bytes</c>.</summary>
    BodyTooLarge,

    /// <summary>The request body breaks HTTP/1.1 (bad chunked framing, an early end).</summary>
    BadRequestBody,
}

/// <summary>The one switch from mode=http outcomes to status codes and <c>X-Watchdog-Reason</c> tokens.</summary>
internal static class UpstreamOutcomes
{
    /// <summary>The status to send (null: abort, nothing can be sent) and the reason token.</summary>
    public static (int? Status, string Reason) Describe(UpstreamOutcome outcome) => outcome switch
    {
        UpstreamOutcome.Answered => (null, "ok"),
        UpstreamOutcome.NotReady => (StatusCodes.Status503ServiceUnavailable, "upstream-not-ready"),
        UpstreamOutcome.Unreachable => (StatusCodes.Status502BadGateway, "upstream-unreachable"),
        UpstreamOutcome.TimedOut => (StatusCodes.Status504GatewayTimeout, "exec-timeout"),
        UpstreamOutcome.ShuttingDown => (StatusCodes.Status503ServiceUnavailable, "shutting-down"),
        UpstreamOutcome.BodyTooLarge => (StatusCodes.Status413PayloadTooLarge, "body-too-large"),
        UpstreamOutcome.BadRequestBody => (StatusCodes.Status400BadRequest, "bad-request-body"),
        UpstreamOutcome.WriteTimedOut => (null, "write-timeout"),
        UpstreamOutcome.ClientGone => (null, "client-gone"),
        _ => (StatusCodes.Status502BadGateway, "upstream-unreachable"),
    };
}
