using System.Globalization;
using System.Text;

namespace Fwatchdog.Server.ForkMode;

/// <summary>
/// A CGI-style header block at the start of stdout (<c>cgi_response=true</c>): lines of
/// <c>Name: value</c> ended by a blank line. <c>Status: 201 Created</c> sets the status,
/// every other end-to-end line becomes a response header. The connection's framing belongs to
/// the watchdog alone (a function printing <c>Transfer-Encoding: chunked</c> could end
/// its body early and smuggle a forged response to the next caller), so framing and hop-by-hop
/// headers are dropped and reported in <see cref="Dropped"/>. Bytes pass as they are (Latin-1
/// in, Latin-1 out), so UTF-8 values reach the client unchanged; control characters are refused.
/// </summary>
internal sealed record CgiHeaderBlock(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, IReadOnlyList<string> Dropped)
{
    /// <summary>Largest header block accepted before the output is judged malformed.</summary>
    public const int MaxLength = 16 * 1024;

    /// <summary>Headers that frame or steer the connection (RFC 9110 section 7.6.1, RFC 9112): the watchdog's business, never the function's.</summary>
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Transfer-Encoding", "Content-Length", "Connection", "Keep-Alive", "Upgrade", "Trailer", "TE",
    };

    /// <summary>True for a status that never carries a body (RFC 9110 section 15.3.5, 15.3.6, 15.4.5).</summary>
    public static bool IsBodyless(int status) => status is 204 or 205 or 304;

    /// <summary>
    /// Looks for the end of the block in <paramref name="data"/>: returns the number of bytes it
    /// takes (blank line included), 0 when more data is needed, -1 when the block is malformed.
    /// </summary>
    public static int FindEnd(ReadOnlySpan<byte> data)
    {
        for (var i = 0; i < data.Length; i++)
        {
            if (data[i] != '\n')
            {
                continue;
            }

            if (i + 1 < data.Length && data[i + 1] == '\n')
            {
                return i + 2;
            }

            if (i + 2 < data.Length && data[i + 1] == '\r' && data[i + 2] == '\n')
            {
                return i + 3;
            }
        }

        return data.Length > MaxLength ? -1 : 0;
    }

    public static bool TryParse(ReadOnlySpan<byte> block, out CgiHeaderBlock result, out string error)
    {
        var status = 200;
        var headers = new List<KeyValuePair<string, string>>();
        var dropped = new List<string>();
        result = new CgiHeaderBlock(status, headers, dropped);
        error = "";
        foreach (var raw in Encoding.Latin1.GetString(block).Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = colon > 0 ? line[..colon].Trim() : "";
            if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                error = $"line \"{Truncate(line)}\" is not a \"Name: value\" header";
                return false;
            }

            var value = line[(colon + 1)..].Trim();
            if (value.Any(c => c is < ' ' and not '\t' or '\x7f'))
            {
                error = $"the value of {name} holds a control character";
                return false;
            }

            if (name.Equals("Status", StringComparison.OrdinalIgnoreCase))
            {
                var code = value.Split(' ', 2)[0];
                if (!int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out status) || status is < 100 or > 599)
                {
                    error = $"Status \"{Truncate(value)}\" is not a status code from 200 to 599";
                    return false;
                }

                if (status < 200)
                {
                    error = $"Status {status} is informational (1xx) and cannot be the final response; use a status from 200 to 599";
                    return false;
                }

                continue;
            }

            if (HopByHop.Contains(name) || name.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase))
            {
                dropped.Add(name);
                continue;
            }

            headers.Add(new(name, value));
        }

        result = new CgiHeaderBlock(status, headers, dropped);
        return true;
    }

    private static string Truncate(string text) => text.Length <= 80 ? text : text[..80] + "...";
}
