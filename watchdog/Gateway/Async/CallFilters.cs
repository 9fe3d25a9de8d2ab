using System.Globalization;
using Fwatchdog.Configuration;
using Fwatchdog.Gateway.Functions;
using Fwatchdog.Gateway.Queue;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Gateway.Async;

/// <summary>
/// The query of the listing and bulk routes: <c>function</c> (also <c>name.{function_namespace}</c>),
/// <c>state</c> (one or more, comma-separated), <c>since</c> (RFC 3339, or a duration back from now),
/// <c>limit</c> and <c>cursor</c>. Anything else, or a value that means nothing, is a reason for a
/// 400 that names the parameter: a typo must not answer as an empty list.
/// </summary>
internal sealed class CallFilters(GatewayOptions options, FunctionRegistry registry, TimeProvider time)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    private static readonly string[] Names = ["function", "state", "since", "limit", "cursor"];

    internal static readonly string[] Rfc3339 = ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"];

    /// <summary>The query, or why not. <paramref name="allowed"/>: the states this route may name; <paramref name="defaults"/>: those it takes when none is named.</summary>
    public (CallQuery? Query, string? Error) Parse(IQueryCollection query, IReadOnlySet<JobState>? allowed = null, IReadOnlySet<JobState>? defaults = null)
    {
        foreach (var (name, values) in query)
        {
            if (!Names.Contains(name, StringComparer.Ordinal))
            {
                return (null, $"unknown parameter {name}; use function, state, since, limit and cursor");
            }

            if (values.Count != 1)
            {
                return (null, $"{name} is given {values.Count} times; give it once (several states go in one, comma-separated: state=failed,dead)");
            }
        }

        string? function = null;
        if (query.TryGetValue("function", out var given))
        {
            var name = given.ToString();
            function = registry.Bare(name);
            if (!FunctionName.IsValid(function) || (registry.Find(function) is null && options.UpstreamTemplate is null))
            {
                return (null, $"function={name}: no such function in the stack file");
            }
        }

        var states = defaults;
        if (query.TryGetValue("state", out var stateText))
        {
            var named = new HashSet<JobState>();
            foreach (var part in stateText.ToString().Split(',', StringSplitOptions.TrimEntries))
            {
                var match = Enum.GetValues<JobState>().Where(s => QueueNames.Name(s) == part).ToList();
                var choices = allowed ?? Enum.GetValues<JobState>().ToHashSet();
                if (match.Count == 0 || !choices.Contains(match[0]))
                {
                    return (null, $"state={part}: not a state this route takes; use one or more of {string.Join(", ", choices.Order().Select(QueueNames.Name))}");
                }

                named.Add(match[0]);
            }

            states = named;
        }

        DateTimeOffset? since = null;
        if (query.TryGetValue("since", out var sinceText))
        {
            var text = sinceText.ToString();
            if (DateTimeOffset.TryParseExact(text, Rfc3339, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
            {
                since = at;
            }
            else if (DurationParser.TryParse(text, out var back))
            {
                since = time.GetUtcNow() - back;
            }
            else
            {
                return (null, $"since={text}: give an RFC 3339 time (since=2026-12-03T17:00:00Z) or a duration back from now (since=15m)");
            }
        }

        var limit = DefaultLimit;
        if (query.TryGetValue("limit", out var limitText)
            && (!int.TryParse(limitText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            return (null, $"limit={limitText}: give a whole number from 1 to {MaxLimit} (default {DefaultLimit})");
        }

        CallCursor? after = null;
        if (query.TryGetValue("cursor", out var cursorText))
        {
            if (!CallCursor.TryDecode(cursorText.ToString(), out var cursor))
            {
                return (null, $"cursor={cursorText}: not a cursor this gateway gave; use the \"next\" link of the previous page");
            }

            after = cursor;
        }

        return (new CallQuery(function, states, since, limit, after), null);
    }

    /// <summary>The same route and filters, from <paramref name="next"/> on: the link to the next page.</summary>
    public static string NextLink(HttpRequest request, CallCursor next)
    {
        var kept = request.Query.Where(p => p.Key != "cursor").Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value.ToString()));
        return request.Path + "?" + string.Join("&", kept.Append("cursor=" + next.Encode()));
    }
}
