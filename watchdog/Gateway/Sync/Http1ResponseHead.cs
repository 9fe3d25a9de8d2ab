using System.Globalization;

namespace Fwatchdog.Gateway.Sync;

/// <summary>A parsed HTTP/1.1 status line and headers, and what they say about the body's framing.</summary>
internal sealed record Http1ResponseHead(int Status, IReadOnlyList<(string Name, string Value)> Headers)
{
    public long? ContentLength { get; private init; }

    public bool Chunked { get; private init; }

    public bool Close { get; private init; }

    public static Http1ResponseHead Parse(string text)
    {
        var lines = text.Split("\r\n");
        var status = lines[0].Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal)
            || !int.TryParse(status[1], NumberStyles.None, CultureInfo.InvariantCulture, out var code) || code is < 100 or > 999)
        {
            throw new IOException($"the function sent no valid HTTP/1.x status line (\"{lines[0]}\")");
        }

        var headers = new List<(string, string)>(lines.Length - 1);
        long? length = null;
        var chunked = false;
        var connection = "";
        foreach (var line in lines.AsSpan(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new IOException($"the function sent a malformed header line (\"{line}\")");
            }

            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            headers.Add((name, value));
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                length = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
                    ? parsed
                    : throw new IOException($"the function sent an invalid Content-Length (\"{value}\")");
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                chunked = value.EndsWith("chunked", StringComparison.OrdinalIgnoreCase);
            }
            else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                connection = value;
            }
        }

        var close = connection.Contains("close", StringComparison.OrdinalIgnoreCase)
            || (status[0] == "HTTP/1.0" && !connection.Contains("keep-alive", StringComparison.OrdinalIgnoreCase));

        return new Http1ResponseHead(code, headers) { ContentLength = chunked ? null : length, Chunked = chunked, Close = close };
    }
}
