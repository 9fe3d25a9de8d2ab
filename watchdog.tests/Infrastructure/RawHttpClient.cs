namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// A bare HTTP/1.1 client over a socket, for what HttpClient will not do: send the request body
/// while reading the response (full duplex, needed to stream 1 GiB through cat), send a body
/// slowly or stop half way.
/// </summary>
internal sealed class RawHttpClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private byte[] _leftover = [];

    private RawHttpClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public Stream Stream => _stream;

    public static async Task<RawHttpClient> ConnectAsync(Uri url)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(url.Host, url.Port);
        return new RawHttpClient(tcp);
    }

    public async Task SendHeadAsync(string method, string path, long? contentLength, params string[] headers)
    {
        var head = new StringBuilder($"{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
        head.Append(contentLength is { } length ? $"Content-Length: {length}\r\n" : "Transfer-Encoding: chunked\r\n");
        foreach (var header in headers)
        {
            head.Append(header).Append("\r\n");
        }

        await _stream.WriteAsync(Encoding.UTF8.GetBytes(head.Append("\r\n").ToString()));
    }

    /// <summary>Reads the status line and headers; the body can then be read with <see cref="ReadBodyAsync"/>.</summary>
    public async Task<(int Status, Dictionary<string, string> Headers)> ReadHeadAsync()
    {
        var buffer = new List<byte>(_leftover);
        var one = new byte[4096];
        int end;
        while ((end = IndexOfBlankLine(buffer)) < 0)
        {
            var read = await _stream.ReadAsync(one);
            if (read == 0)
            {
                throw new IOException("connection closed before the response head");
            }

            buffer.AddRange(one.AsSpan(0, read));
        }

        var lines = Encoding.UTF8.GetString(buffer.ToArray(), 0, end).Split("\r\n");
        _leftover = buffer.Skip(end + 4).ToArray();
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon]] = line[(colon + 1)..].Trim();
        }

        return (int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture), headers);
    }

    /// <summary>
    /// Streams the (chunked or sized) response body into <paramref name="sink"/>; throws if the response is cut short.
    /// Framing as RFC 9112 section 6.3 says: Transfer-Encoding wins over Content-Length; bytes after the body are kept
    /// for the next response on the connection.
    /// </summary>
    public async Task ReadBodyAsync(Dictionary<string, string> headers, Func<ReadOnlyMemory<byte>, Task> sink)
    {
        var reader = new BufferedReader(_stream, _leftover);
        try
        {
            await ReadBodyAsync(reader, headers, sink);
        }
        finally
        {
            _leftover = reader.Unread();
        }
    }

    private static async Task ReadBodyAsync(BufferedReader reader, Dictionary<string, string> headers, Func<ReadOnlyMemory<byte>, Task> sink)
    {
        if (!headers.ContainsKey("Transfer-Encoding") && headers.TryGetValue("Content-Length", out var length))
        {
            await reader.CopyAsync(long.Parse(length, CultureInfo.InvariantCulture), sink);
            return;
        }

        while (true)
        {
            var size = long.Parse(await reader.ReadLineAsync(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                await reader.ReadLineAsync();
                return;
            }

            await reader.CopyAsync(size, sink);
            await reader.ReadLineAsync();
        }
    }

    /// <summary>One bodiless request and its whole response, on this connection (kept alive for the next one).</summary>
    public async Task<(int Status, Dictionary<string, string> Headers, string Body)> ExchangeAsync(string method, string path, params string[] headers)
    {
        await SendHeadAsync(method, path, 0, headers);
        var (status, head) = await ReadHeadAsync();
        var body = new MemoryStream();
        if (status is not (204 or 304) && method != "HEAD")
        {
            await ReadBodyAsync(head, chunk =>
            {
                body.Write(chunk.Span);
                return Task.CompletedTask;
            });
        }

        return (status, head, Encoding.UTF8.GetString(body.ToArray()));
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }

    private static int IndexOfBlankLine(List<byte> data)
    {
        for (var i = 0; i + 3 < data.Count; i++)
        {
            if (data[i] == '\r' && data[i + 1] == '\n' && data[i + 2] == '\r' && data[i + 3] == '\n')
            {
                return i;
            }
        }

        return -1;
    }

    private sealed class BufferedReader
    {
        private readonly Stream _source;
        private readonly byte[] _buffer = new byte[256 * 1024];
        private int _start;
        private int _end;

        public BufferedReader(Stream source, byte[] initial)
        {
            _source = source;
            initial.CopyTo(_buffer, 0);
            _end = initial.Length;
        }

        public byte[] Unread() => _buffer[_start.._end];

        public async Task<string> ReadLineAsync()
        {
            var line = new StringBuilder();
            while (true)
            {
                if (_start == _end && !await FillAsync())
                {
                    throw new IOException("connection closed in the middle of the response body");
                }

                var c = (char)_buffer[_start++];
                if (c == '\n')
                {
                    return line.ToString().TrimEnd('\r');
                }

                line.Append(c);
            }
        }

        public async Task CopyAsync(long count, Func<ReadOnlyMemory<byte>, Task> sink)
        {
            while (count > 0)
            {
                if (_start == _end && !await FillAsync())
                {
                    throw new IOException("connection closed in the middle of the response body");
                }

                var n = (int)Math.Min(count, _end - _start);
                await sink(_buffer.AsMemory(_start, n));
                _start += n;
                count -= n;
            }
        }

        private async Task<bool> FillAsync()
        {
            _start = 0;
            _end = await _source.ReadAsync(_buffer);
            return _end > 0;
        }
    }
}
