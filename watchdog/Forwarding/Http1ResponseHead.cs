using System.Text;

namespace Fwatchdog.Forwarding;

/// <summary>How the body of a response is delimited (RFC 9112 section 6.3).</summary>
internal enum Http1Framing
{
    ContentLength,
    Chunked,
    UntilClose,
}

/// <summary>
/// A parsed HTTP/1.x status line and header section, and what they say about the body's framing.
/// Parsing is strict (RFC 9112 as a client): anything a lenient parser would have to guess about
/// is refused with <see cref="Http1ResponseException"/>, because a guess that differs from the
/// upstream's intent is how one caller ends up with another caller's bytes.
/// </summary>
internal sealed record Http1ResponseHead(int Status, bool Http10, IReadOnlyList<(string Name, string Value)> Headers)
{
    public long? ContentLength { get; private init; }

    public Http1Framing Framing { get; private init; }

    /// <summary>The upstream said the connection ends after this response (or it is HTTP/1.0 without keep-alive).</summary>
    public bool Close { get; private init; }

    /// <summary>
    /// Parses a head without its final empty line (<paramref name="head"/> ends before the last CRLF CRLF).
    /// Header values are read as Latin-1, so any byte from 0x80 up passes through unchanged.
    /// </summary>
    public static Http1ResponseHead Parse(ReadOnlySpan<byte> head)
    {
        var lineEnd = head.IndexOf("\r\n"u8);
        var statusLine = lineEnd < 0 ? head : head[..lineEnd];
        var (status, http10) = ParseStatusLine(statusLine);
        var headers = new List<(string, string)>();
        long? length = null;
        var chunked = false;
        var transferEncoding = false;
        var close = false;
        var keepAlive = false;
        var rest = head[(lineEnd < 0 ? head.Length : lineEnd + 2)..];
        for (var more = lineEnd >= 0; more;)
        {
            var end = rest.IndexOf("\r\n"u8);
            var line = end < 0 ? rest : rest[..end];
            more = end >= 0;
            rest = more ? rest[(end + 2)..] : [];
            var (name, value) = ParseField(line);
            headers.Add((name, value));
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                length = MergeContentLength(length, value);
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                // Only a single "chunked" is understood; gzip, identity, "chunked, chunked" or a
                // coding after chunked would each need a guess (RFC 9112 6.1 and 6.3).
                if (transferEncoding || !value.Equals("chunked", StringComparison.OrdinalIgnoreCase))
                {
                    throw new Http1ResponseException($"the upstream sent a Transfer-Encoding this gateway does not take (\"{value}\"); only a single \"chunked\" is accepted");
                }

                transferEncoding = chunked = true;
            }
            else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var token in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    close |= token.Equals("close", StringComparison.OrdinalIgnoreCase);
                    keepAlive |= token.Equals("keep-alive", StringComparison.OrdinalIgnoreCase);
                }
            }
        }

        if (chunked && length is not null)
        {
            // RFC 9112 6.3 item 3: a sender of both may be attempting request smuggling.
            throw new Http1ResponseException("the upstream sent both Content-Length and Transfer-Encoding");
        }

        if (chunked && http10)
        {
            throw new Http1ResponseException("the upstream sent Transfer-Encoding in an HTTP/1.0 response");
        }

        var framing = chunked ? Http1Framing.Chunked : length is not null ? Http1Framing.ContentLength : Http1Framing.UntilClose;
        return new Http1ResponseHead(status, http10, headers)
        {
            ContentLength = length,
            Framing = framing,
            Close = close || (http10 && !keepAlive),
        };
    }

    private static (int Status, bool Http10) ParseStatusLine(ReadOnlySpan<byte> line)
    {
        // status-line = HTTP-version SP status-code SP [ reason-phrase ]; a missing SP before an
        // empty reason is tolerated, as Go and curl do.
        var http10 = line.StartsWith("HTTP/1.0 "u8);
        if (!http10 && !line.StartsWith("HTTP/1.1 "u8))
        {
            throw new Http1ResponseException($"the upstream sent no HTTP/1.0 or HTTP/1.1 status line (\"{Show(line)}\")");
        }

        var code = line[9..];
        if (code.Length < 3 || !IsDigit(code[0]) || !IsDigit(code[1]) || !IsDigit(code[2]) || (code.Length > 3 && code[3] != (byte)' '))
        {
            throw new Http1ResponseException($"the upstream sent a status line without a three-digit status (\"{Show(line)}\")");
        }

        foreach (var b in code[3..])
        {
            if (b is < 0x20 and not (byte)'\t' or 0x7F)
            {
                throw new Http1ResponseException("the upstream sent a control character in its reason phrase");
            }
        }

        var status = ((code[0] - '0') * 100) + ((code[1] - '0') * 10) + (code[2] - '0');
        return status is < 100 or > 599
            ? throw new Http1ResponseException($"the upstream sent status {status}, outside 100-599")
            : (status, http10);
    }

    /// <summary>A trailer field must be as well formed as a header field; it is then dropped.</summary>
    public static void CheckTrailer(ReadOnlySpan<byte> line) => ParseField(line);

    private static (string Name, string Value) ParseField(ReadOnlySpan<byte> line)
    {
        if (line.IsEmpty)
        {
            throw new Http1ResponseException("the upstream sent an empty header line");
        }

        if (line[0] is (byte)' ' or (byte)'\t')
        {
            throw new Http1ResponseException("the upstream folded a header over two lines (obs-fold)");
        }

        var colon = line.IndexOf((byte)':');
        if (colon <= 0)
        {
            throw new Http1ResponseException($"the upstream sent a header line without a name (\"{Show(line)}\")");
        }

        foreach (var b in line[..colon])
        {
            if (!IsTokenChar(b))
            {
                throw new Http1ResponseException($"the upstream sent a header name with a character not allowed in it (\"{Show(line[..colon])}\")");
            }
        }

        var value = line[(colon + 1)..].Trim(" \t"u8);
        foreach (var b in value)
        {
            // field-vchar / SP / HTAB / obs-text: bytes from 0x80 up (UTF-8) pass; control characters never.
            if (b is < 0x20 and not (byte)'\t' or 0x7F)
            {
                throw new Http1ResponseException($"the upstream sent a control character (0x{b:X2}) in header {Encoding.Latin1.GetString(line[..colon])}");
            }
        }

        return (Encoding.Latin1.GetString(line[..colon]), Encoding.Latin1.GetString(value));
    }

    private static long MergeContentLength(long? known, string value)
    {
        // A list of identical values ("5, 5", or the header twice) is one length (RFC 9110 8.6); anything else is refused.
        long? merged = known;
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Length is 0 or > 18 || !part.All(char.IsAsciiDigit))
            {
                throw new Http1ResponseException($"the upstream sent an invalid Content-Length (\"{value}\")");
            }

            var parsed = long.Parse(part, System.Globalization.CultureInfo.InvariantCulture);
            if (merged is { } earlier && earlier != parsed)
            {
                throw new Http1ResponseException($"the upstream sent two different Content-Lengths ({earlier} and {parsed})");
            }

            merged = parsed;
        }

        return merged ?? throw new Http1ResponseException("the upstream sent an empty Content-Length");
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    /// <summary>tchar of RFC 9110 5.6.2.</summary>
    internal static bool IsTokenChar(byte b) =>
        b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9'
            or (byte)'!' or (byte)'#' or (byte)'$' or (byte)'%' or (byte)'&' or (byte)'\'' or (byte)'*' or (byte)'+'
            or (byte)'-' or (byte)'.' or (byte)'^' or (byte)'_' or (byte)'`' or (byte)'|' or (byte)'~';

    /// <summary>A line for an error message: at most 80 characters, control characters escaped.</summary>
    internal static string Show(ReadOnlySpan<byte> line)
    {
        var text = new StringBuilder();
        foreach (var b in line[..Math.Min(line.Length, 80)])
        {
            text.Append(b is < 0x20 or >= 0x7F ? $"\\x{b:X2}" : ((char)b).ToString());
        }

        return text.ToString();
    }
}
