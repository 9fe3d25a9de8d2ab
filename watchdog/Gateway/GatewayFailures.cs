using System.Net.Sockets;
using System.Text;
using Fwatchdog.Forwarding;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Gateway;

/// <summary>Status codes and reason tokens of gateway-made responses, and how they are written.</summary>
internal static class GatewayFailures
{
    public const string ReasonHeader = "X-Gateway-Reason";

    public static (int Status, string Token) Describe(GatewayFailure failure) => failure switch
    {
        GatewayFailure.FunctionNotFound => (404, "function_not_found"),
        GatewayFailure.FunctionNotReady => (503, "function_not_ready"),
        GatewayFailure.FunctionUnreachable => (502, "function_unreachable"),
        GatewayFailure.BadUpstreamResponse => (502, "bad_upstream_response"),
        GatewayFailure.BadPath => (400, "bad_path"),
        GatewayFailure.UpstreamTimeout => (504, "upstream_timeout"),
        GatewayFailure.ClientGone => (499, "client_gone"),
        GatewayFailure.MethodNotAllowed => (405, "method_not_allowed"),
        GatewayFailure.CallbackUrlInvalid => (400, "callback_url_invalid"),
        GatewayFailure.CallbackHostNotAllowed => (400, "callback_host_not_allowed"),
        GatewayFailure.BodyTooLarge => (413, "body_too_large"),
        GatewayFailure.BadRequestBody => (400, "bad_request_body"),
        GatewayFailure.CallIdConflict => (409, "call_id_conflict"),
        GatewayFailure.IdempotencyKeyReused => (422, "idempotency_key_reused"),
        GatewayFailure.QueueUnavailable => (503, "queue_unavailable"),
        GatewayFailure.QueueFull => (429, "queue_full"),
        GatewayFailure.StorageFull => (507, "storage_full"),
        GatewayFailure.Unauthorized => (401, "unauthorized"),
        GatewayFailure.NotFound => (404, "not_found"),
        GatewayFailure.BadHeader => (400, "bad_header"),
        GatewayFailure.BadQuery => (400, "bad_query"),
        GatewayFailure.NotImplemented => (501, "not_implemented"),
        GatewayFailure.CrossSiteRequest => (403, "cross_site_request"),
        _ => (500, "internal_error"),
    };

    /// <summary>
    /// A connection that failed because the host has no address, or only addresses a caller may
    /// not reach (<see cref="Reach.AddressRefusedException"/>), means the function does not exist;
    /// any other failure, that it is unreachable.
    /// </summary>
    public static GatewayFailure FromConnectError(SocketException? error) =>
        error is Reach.AddressRefusedException || error?.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData
            ? GatewayFailure.FunctionNotFound
            : GatewayFailure.FunctionUnreachable;

    /// <summary>
    /// What a forwarded call that got no answer means for the caller: the upstream is a function,
    /// a fired token the call's deadline (the caller's own leaving is told apart by the proxy).
    /// </summary>
    public static GatewayFailure FromForwarder(ForwardResult result) => result.Error switch
    {
        ForwarderError.None => GatewayFailure.None,
        ForwarderError.ConnectFailed => FromConnectError(result.ConnectError),
        ForwarderError.BadResponse => GatewayFailure.BadUpstreamResponse,
        ForwarderError.Cancelled => GatewayFailure.UpstreamTimeout,
        ForwarderError.RequestBodyTooLarge => GatewayFailure.BodyTooLarge,
        ForwarderError.RequestBodyMalformed => GatewayFailure.BadRequestBody,
        _ => GatewayFailure.FunctionUnreachable,
    };

    /// <summary>Writes the status, the reason header and a one-line text body, unless the response has started.</summary>
    public static Task WriteAsync(HttpContext context, GatewayFailure failure, string message)
    {
        var (status, token) = Describe(failure);
        if (context.Response.HasStarted)
        {
            context.Abort();
            return Task.CompletedTask;
        }

        context.Response.StatusCode = status;
        context.Response.Headers[ReasonHeader] = token;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(message + "\n")).AsTask();
    }
}
