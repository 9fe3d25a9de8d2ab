using Microsoft.Extensions.Primitives;

namespace Fwatchdog.Forwarding;

/// <summary>
/// Headers that belong to one connection, never to the message: they do not cross a proxy in
/// either direction (RFC 9110 7.6.1), nor those the <c>Connection</c> header names. Host and
/// Expect are the next hop's own too: the forwarder writes its own Host and sends bodies at once.
/// </summary>
internal static class HopByHopHeaders
{
    private static readonly HashSet<string> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Host", "Expect",
    };

    /// <param name="connection">The message's Connection header values.</param>
    public static bool IsHopByHop(string name, StringValues connection)
    {
        if (Names.Contains(name))
        {
            return true;
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
}
