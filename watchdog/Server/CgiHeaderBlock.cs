using System.Globalization;
using System.Text;

namespace Fwatchdog.Server;

/// <summary>
/// A CGI-style header block at the start of stdout (<c>cgi_response=true</c>): lines of
/// <c>Name: value</c> ended by a blank line. <c>Status: 201 Created</c> sets the status,
/// every other line becomes a response header.
/// </summary>
internal sealed record CgiHeaderBlock(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    /// <summary>Largest header block accepted before the output is judged malformed.</summary>
    public const int MaxLength = 16 * 1024;

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
        result = new CgiHeaderBlock(status, headers);
        error = "";
        foreach (var raw in Encoding.UTF8.GetString(block).Split('\n'))
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
            if (name.Equals("Status", StringComparison.OrdinalIgnoreCase))
            {
                var code = value.Split(' ', 2)[0];
                if (!int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out status) || status is < 100 or > 599)
                {
                    error = $"Status \"{Truncate(value)}\" is not a status code from 100 to 599";
                    return false;
                }

                continue;
            }

            headers.Add(new(name, value));
        }

        result = new CgiHeaderBlock(status, headers);
        return true;
    }

    private static string Truncate(string text) => text.Length <= 80 ? text : text[..80] + "...";
}
