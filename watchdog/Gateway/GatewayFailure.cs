namespace Fwatchdog.Gateway;

/// <summary>
/// Everything the gateway itself can answer instead of the function. One switch
/// (<see cref="GatewayFailures"/>) maps each to a status and the <c>X-Gateway-Reason</c> token.
/// </summary>
internal enum GatewayFailure
{
    None,
    FunctionNotFound,
    FunctionNotReady,
    FunctionUnreachable,
    BadUpstreamResponse,
    BadPath,
    UpstreamTimeout,
    ClientGone,
    MethodNotAllowed,
    CallbackUrlInvalid,
    CallbackHostNotAllowed,
    BodyTooLarge,
    BadRequestBody,
    CallIdConflict,
    IdempotencyKeyReused,
    QueueUnavailable,
    QueueFull,
    StorageFull,
    Unauthorized,
    NotFound,
    BadHeader,
    BadQuery,
    NotImplemented,
    CrossSiteRequest,
}
