using System.Diagnostics;

namespace Fwatchdog.Tracing;

/// <summary>
/// A W3C Trace Context (https://www.w3.org/TR/trace-context/) with the caller's Baggage
/// (https://www.w3.org/TR/baggage/): the trace, the span that is the parent of the next one, the
/// sampled flag, and the vendor and application entries passed on with them. Built only from
/// text that passed <see cref="TraceHeaders"/>, so it is always safe to send on.
/// </summary>
/// <param name="TraceId">32 lower-case hex digits, not all zero.</param>
/// <param name="SpanId">16 lower-case hex digits, not all zero.</param>
/// <param name="Sampled">The caller's sampled flag (bit 0 of trace-flags).</param>
/// <param name="TraceState">The tracestate to pass on (trimmed to the W3C bounds), or null.</param>
/// <param name="Baggage">The baggage to pass on (trimmed to the W3C bounds), or null.</param>
internal readonly record struct TraceContext(string TraceId, string SpanId, bool Sampled, string? TraceState, string? Baggage)
{
    /// <summary>The traceparent header value (version 00) that names this span as the parent.</summary>
    public string TraceParent => $"00-{TraceId}-{SpanId}-{(Sampled ? "01" : "00")}";

    /// <summary>A new trace, sampled, for a call that came without one.</summary>
    public static TraceContext NewRoot() => new(ActivityTraceId.CreateRandom().ToHexString(), ActivitySpanId.CreateRandom().ToHexString(), true, null, null);

    /// <summary>The same trace, state and baggage with <paramref name="spanId"/> as the parent of what comes next.</summary>
    public TraceContext WithSpan(string spanId) => this with { SpanId = spanId };

    /// <summary>The same trace with a new span id: a span of ours that is not recorded.</summary>
    public TraceContext NewSpan() => WithSpan(ActivitySpanId.CreateRandom().ToHexString());

    /// <summary>The header lines (each ending in CRLF) that carry this context on a request.</summary>
    public string HeaderLines()
    {
        var lines = $"{TraceHeaders.TraceParent}: {TraceParent}\r\n";
        if (TraceState is { } state)
        {
            lines += $"{TraceHeaders.TraceState}: {state}\r\n";
        }

        if (Baggage is { } baggage)
        {
            lines += $"{TraceHeaders.Baggage}: {baggage}\r\n";
        }

        return lines;
    }

    /// <summary>The context as headers: traceparent, and tracestate and baggage when present.</summary>
    public IEnumerable<KeyValuePair<string, string>> Headers()
    {
        yield return new(TraceHeaders.TraceParent, TraceParent);
        if (TraceState is { } state)
        {
            yield return new(TraceHeaders.TraceState, state);
        }

        if (Baggage is { } baggage)
        {
            yield return new(TraceHeaders.Baggage, baggage);
        }
    }
}
