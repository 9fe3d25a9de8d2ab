using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Gateway;

/// <summary>A caller's X-Call-Id is kept end to end (if it is a sane token); otherwise a new one is made.</summary>
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

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
