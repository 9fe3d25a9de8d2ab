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
        return IsValid(given) ? given : Guid.NewGuid().ToString();
    }

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
