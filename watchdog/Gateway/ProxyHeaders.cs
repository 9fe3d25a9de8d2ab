using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Fwatchdog.Gateway;

/// <summary>
/// Which headers cross the gateway: hop-by-hop ones (and those named in <c>Connection</c>) never
/// do, in either direction (gateway-reference 1.5); content headers go on the content.
/// </summary>
internal static class ProxyHeaders
{
    public const string CallId = "X-Call-Id";
    public const string StartTime = "X-Start-Time";

    /// <summary>Names the call a request continues: sent with every callback, kept on the async call it starts (issue 9, finding 10).</summary>
    public const string ParentCallId = "X-Parent-Call-Id";

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Host", "Expect",
    };

    public static bool IsHopByHop(string name, StringValues connection)
    {
        if (HopByHop.Contains(name))
        {
            return true;
        }

        if (connection.Count == 0)
        {
            return false;
        }

        foreach (var value in connection)
        {
            foreach (var token in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (string.Equals(token, name, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Headers the gateway writes itself on the way in and out (the caller's values are folded in or kept).</summary>
    public static bool IsSetByGateway(string name) =>
        name.Equals(CallId, StringComparison.OrdinalIgnoreCase)
        || name.Equals(StartTime, StringComparison.OrdinalIgnoreCase)
        || name.Equals("X-Forwarded-For", StringComparison.OrdinalIgnoreCase);

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
