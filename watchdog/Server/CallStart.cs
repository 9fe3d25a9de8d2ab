using System.Diagnostics;
using Fwatchdog.Hosting;
using Fwatchdog.Tracing;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Server;

/// <summary>
/// How every call to the watchdog begins, in fork and http mode alike: its start time, its count
/// in the metrics, any control character in what the caller sent, its id, and its span.
/// </summary>
/// <param name="Timestamp">When the call began, in <see cref="Stopwatch"/> ticks.</param>
/// <param name="Problem">The control character that gets the call refused with 400, or null.</param>
/// <param name="CallId">
/// The caller's X-Call-Id, or a new one when it sent none or when the call is refused (the id may
/// hold the very control character the call is refused for, and could not even be sent back).
/// </param>
/// <param name="Span">
/// The watchdog's span of the call: a child of the caller's trace (a well-formed traceparent) or
/// the root of a new one. The caller's malformed trace headers go no further.
/// </param>
internal readonly record struct CallStart(long Timestamp, RequestTextProblem? Problem, string CallId, TraceSpan Span)
{
    public static CallStart Begin(HttpContext context, WatchdogMetrics metrics)
    {
        var timestamp = Stopwatch.GetTimestamp();
        metrics.Started();
        var problem = RequestTextProblem.Find(context);
        var callId = problem is null && context.Request.Headers[WatchdogHeaders.CallId].ToString() is { Length: > 0 } given ? given : Uuid.NewV4();
        var span = Spans.Start(context.Request.Method, ActivityKind.Server, TraceHeaders.Read(context.Request.Headers));
        if (span.Recording)
        {
            span.Tag("http.request.method", context.Request.Method);
            span.Tag("url.path", RequestTextProblem.ForLog(context.Request.Path.Value ?? "/"));
            span.Tag("fwatchdog.call_id", callId);
        }

        return new(timestamp, problem, callId, span);
    }
}
