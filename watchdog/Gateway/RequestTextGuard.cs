using Fwatchdog.Server;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Gateway;

/// <summary>
/// Every route, before anything else: a control character in the request target (<c>400
/// bad_path</c>) or in a header value (<c>400 bad_header</c>) never reaches a function, the queue
/// or a callback (<see cref="RequestTextProblem"/>). The answer names a call id like every other
/// (the caller's only when it is a usable one, so never one holding the refused character).
/// </summary>
internal static class RequestTextGuard
{
    public static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (RequestTextProblem.Find(context) is not { } problem)
        {
            return next(context);
        }

        context.Response.Headers[ProxyHeaders.CallId] = CallIds.FromRequest(context.Request);
        return GatewayFailures.WriteAsync(context, problem.InTarget ? GatewayFailure.BadPath : GatewayFailure.BadHeader, problem.Message);
    }
}
