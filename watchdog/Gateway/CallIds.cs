using Fwatchdog.Hosting;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Gateway;

/// <summary>
/// A caller's X-Call-Id is kept end to end if it is usable in the status API (1-128 of
/// <c>[A-Za-z0-9._-]</c>, not only dots); otherwise a new one is made.
/// </summary>
internal static class CallIds
{
    public static string FromRequest(HttpRequest request)
    {
        var given = request.Headers[ProxyHeaders.CallId].ToString();
        return IsValid(given) ? given : Uuid.NewV4();
    }

    /// <summary>
    /// The id of a queued call. A call that continues another (it carries X-Parent-Call-Id, as
    /// every callback does) and repeats the parent's X-Call-Id, as OpenFaaS callbacks do, gets a
    /// fresh id: the parent's is taken, and chaining into /async-function must work.
    /// </summary>
    public static string ForQueuedCall(HttpRequest request)
    {
        var id = FromRequest(request);
        return id == request.Headers[ProxyHeaders.ParentCallId].ToString() ? Uuid.NewV4() : id;
    }

    /// <summary>The parent call named in stored request headers, if it is a usable id.</summary>
    public static string? ParentOf(IEnumerable<KeyValuePair<string, string>> headers) =>
        headers.FirstOrDefault(h => h.Key.Equals(ProxyHeaders.ParentCallId, StringComparison.OrdinalIgnoreCase)).Value is { } parent && IsValid(parent)
            ? parent
            : null;

    public static bool IsValid(string id)
    {
        if (id.Length is 0 or > 128)
        {
            return false;
        }

        var notOnlyDots = false;
        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }

            notOnlyDots |= c != '.';
        }

        // "." and ".." would be path segments in /async-calls/{id}: no status API could reach them.
        return notOnlyDots;
    }
}
