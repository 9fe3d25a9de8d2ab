using Fwatchdog.Execution;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Server.ForkMode;

/// <summary>The one place where outcomes become status codes.</summary>
internal static class OutcomeStatus
{
    /// <summary>The status for an outcome, or null when no response is to be sent (abort instead).</summary>
    public static int? For(FunctionOutcome outcome) => outcome switch
    {
        FunctionOutcome.Succeeded => StatusCodes.Status200OK,
        FunctionOutcome.Failed => StatusCodes.Status500InternalServerError,
        FunctionOutcome.StartFailed => StatusCodes.Status500InternalServerError,
        FunctionOutcome.BadCgiResponse => StatusCodes.Status500InternalServerError,
        FunctionOutcome.TimedOut => StatusCodes.Status504GatewayTimeout,
        FunctionOutcome.ReadTimedOut => StatusCodes.Status408RequestTimeout,
        FunctionOutcome.BodyTooLarge => StatusCodes.Status413PayloadTooLarge,
        FunctionOutcome.BadRequestBody => StatusCodes.Status400BadRequest,
        FunctionOutcome.ShuttingDown => StatusCodes.Status503ServiceUnavailable,
        FunctionOutcome.SpoolFull => StatusCodes.Status507InsufficientStorage,
        FunctionOutcome.WriteTimedOut or FunctionOutcome.ClientGone => null,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>The token sent in <see cref="WatchdogHeaders.Reason"/>.</summary>
    public static string Reason(FunctionOutcome outcome) => outcome switch
    {
        FunctionOutcome.Succeeded => "ok",
        FunctionOutcome.Failed => "exit-code",
        FunctionOutcome.StartFailed => "start-failed",
        FunctionOutcome.BadCgiResponse => "bad-cgi-response",
        FunctionOutcome.TimedOut => "exec-timeout",
        FunctionOutcome.ReadTimedOut => "read-timeout",
        FunctionOutcome.WriteTimedOut => "write-timeout",
        FunctionOutcome.BodyTooLarge => "body-too-large",
        FunctionOutcome.BadRequestBody => "bad-request-body",
        FunctionOutcome.ClientGone => "client-gone",
        FunctionOutcome.ShuttingDown => "shutting-down",
        FunctionOutcome.SpoolFull => "spool-full",
        _ => "error",
    };
}
