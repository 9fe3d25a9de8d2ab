using Fwatchdog.Forwarding;

namespace Fwatchdog.Gateway;

/// <summary>
/// The headers the gateway writes itself, and how a header goes on a request message (content
/// headers on the content). Hop-by-hop rules are the forwarder's (<see cref="HopByHopHeaders"/>).
/// </summary>
internal static class ProxyHeaders
{
    public const string CallId = "X-Call-Id";
    public const string StartTime = "X-Start-Time";

    /// <summary>Names the call a request continues: sent with every callback, kept on the async call it starts.</summary>
    public const string ParentCallId = "X-Parent-Call-Id";

    /// <summary>Headers the gateway writes itself on the way in and out (the caller's values are folded in or kept): the forwarder copies none of them.</summary>
    public static readonly IReadOnlySet<string> SetByGateway = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { CallId, StartTime, ForwardedHeaders.For };

    /// <summary>Adds one header to a request message, on its content when it is a content header.</summary>
    public static void Add(HttpRequestMessage request, string name, IEnumerable<string?> values)
    {
        if (!request.Headers.TryAddWithoutValidation(name, values))
        {
            request.Content?.Headers.TryAddWithoutValidation(name, values);
        }
    }

    /// <summary>Unix time in nanoseconds, as OpenFaaS writes X-Start-Time.</summary>
    public static string NowNanoseconds(TimeProvider time) =>
        ((time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
