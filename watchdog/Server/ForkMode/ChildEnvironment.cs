using System.Globalization;
using System.Text;
using Fwatchdog.Tracing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Fwatchdog.Server.ForkMode;

/// <summary>
/// The classic watchdog's CGI-style variables, made safe: every value of a repeated header
/// (joined with ", "), names reduced to [A-Za-z0-9_], no <c>Http_Proxy</c> (httpoxy), and no
/// header can fake the variables the watchdog sets itself (Http_Method, Http_Query, ...).
/// </summary>
internal static class ChildEnvironment
{
    /// <summary>Deadline of the run as RFC 3339 UTC, set when exec_timeout is on.</summary>
    public const string DeadlineVariable = "Exec_Deadline";

    /// <summary>Deadline of the run in Unix milliseconds, set when exec_timeout is on.</summary>
    public const string DeadlineUnixMsVariable = "Exec_Deadline_Unix_Ms";

    /// <summary>The OpenTelemetry environment carriers (https://opentelemetry.io/docs/specs/otel/context/env-carriers/), upper case.</summary>
    public const string TraceParentVariable = "TRACEPARENT";
    public const string TraceStateVariable = "TRACESTATE";
    public const string BaggageVariable = "BAGGAGE";

    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "Method", "Query", "Path", "Host", "Content_Length", "ContentLength", "Transfer_Encoding", "Proxy", "X_Call_Id",
    };

    /// <summary>Maps one header name to its variable name, or null when the header must not become one.</summary>
    public static string? VariableName(string header)
    {
        var name = new StringBuilder(header.Length);
        var upper = true;
        foreach (var c in header)
        {
            if (char.IsAsciiLetter(c))
            {
                name.Append(upper ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
                upper = false;
            }
            else
            {
                name.Append(char.IsAsciiDigit(c) ? c : '_');
                upper = c == '-';
            }
        }

        var key = name.ToString();
        return key.Length == 0 || Reserved.Contains(key) ? null : "Http_" + key;
    }

    /// <param name="trace">
    /// The process's own span: the process joins the trace through TRACEPARENT, TRACESTATE and
    /// BAGGAGE, and templates that read Http_Traceparent get the same values, never the caller's
    /// unchecked text.
    /// </param>
    public static Dictionary<string, string> Build(HttpRequest request, string callId, bool cgiHeaders, DateTimeOffset? deadline, TraceContext trace)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        env[TraceParentVariable] = trace.TraceParent;
        if (trace.TraceState is { } state)
        {
            env[TraceStateVariable] = state;
        }

        if (trace.Baggage is { } baggage)
        {
            env[BaggageVariable] = baggage;
        }

        if (cgiHeaders)
        {
            foreach (var (header, values) in request.Headers)
            {
                if (TraceHeaders.IsTraceHeader(header))
                {
                    continue;
                }

                if (VariableName(header) is { } variable)
                {
                    env[variable] = HeaderText.FromBytes(Join(values));
                }
            }

            var contentLength = request.ContentLength ?? (request.Headers.TransferEncoding.Count > 0 ? -1 : 0);
            var length = contentLength.ToString(CultureInfo.InvariantCulture);
            env["Http_Method"] = request.Method;
            env["Http_Content_Length"] = length;
            env["Http_ContentLength"] = length;
            env["Http_Path"] = request.PathBase.Value + request.Path.Value; // decoded, as Go's r.URL.Path
            env["Http_Host"] = HeaderText.FromBytes(request.Host.Value ?? "");
            env["Http_X_Call_Id"] = HeaderText.FromBytes(callId);
            if (request.QueryString.Value is { Length: > 1 } query)
            {
                env["Http_Query"] = query[1..];
            }

            if (request.Headers.TransferEncoding.Count > 0)
            {
                env["Http_Transfer_Encoding"] = Join(request.Headers.TransferEncoding);
            }

            foreach (var (name, value) in trace.Headers())
            {
                env[VariableName(name) ?? name] = value;
            }
        }

        if (deadline is { } at)
        {
            env[DeadlineVariable] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            env[DeadlineUnixMsVariable] = at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        }

        return env;
    }

    private static string Join(StringValues values) => values.Count == 1 ? values[0] ?? "" : string.Join(", ", values.ToArray());
}
