using System.Diagnostics;

namespace Fwatchdog.Tracing;

/// <summary>
/// Where fwatchdog's spans start. Without an exporter nothing listens to <see cref="Source"/>,
/// no Activity is made, and a span is only a new span id to pass on: propagation costs a random
/// number and a string. With one (<see cref="TraceExport"/>), spans are recorded Activities.
/// </summary>
internal static class Spans
{
    public const string SourceName = "fwatchdog";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// Starts a span whose parent is <paramref name="parent"/> (the caller's or a stored context),
    /// or a new trace when there is none. Never the ambient Activity: ASP.NET Core makes one per
    /// request from the caller's headers by its own, looser rules.
    /// </summary>
    public static TraceSpan Start(string name, ActivityKind kind, TraceContext? parent, DateTimeOffset startTime = default)
    {
        if (!Source.HasListeners())
        {
            return new TraceSpan(null, parent?.NewSpan() ?? TraceContext.NewRoot());
        }

        Activity.Current = null;
        var context = parent is { } p
            ? new ActivityContext(ActivityTraceId.CreateFromString(p.TraceId), ActivitySpanId.CreateFromString(p.SpanId),
                p.Sampled ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None, p.TraceState, isRemote: true)
            : default;
        var activity = Source.StartActivity(name, kind, context, startTime: startTime);
        if (activity is null)
        {
            return new TraceSpan(null, parent?.NewSpan() ?? TraceContext.NewRoot());
        }

        return new TraceSpan(activity, new TraceContext(activity.TraceId.ToHexString(), activity.SpanId.ToHexString(), activity.Recorded, parent?.TraceState, parent?.Baggage));
    }
}
