using System.Buffers;
using System.Net.Sockets;
using System.Text;

namespace Fwatchdog.Gateway.Sync;

/// <summary>
/// One pooled HTTP/1.1 connection to a function, with a read buffer for the response head and
/// body framing. Reads and writes are independent, so the request body can still be going out
/// while the response comes in (full duplex, which .NET's HttpClient does not do for HTTP/1.1).
/// </summary>
internal sealed class Http1Connection : IDisposable
{
    private const int BufferSize = 16 * 1024;
    private const int MaxHead = 64 * 1024;
    private readonly Socket _socket;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private int _start;
    private int _end;

    private Http1Connection(Socket socket)
    {
        _socket = socket;
        Stream = new NetworkStream(socket, ownsSocket: true);
    }

    public NetworkStream Stream { get; }

    /// <summary>True when it came from the pool: a failure before any response byte may be a stale connection.</summary>
    public bool Reused { get; set; }

    public long IdleSince { get; set; }

    public static async Task<Http1Connection> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, cancellationToken);
            return new Http1Connection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Whether an idle connection still looks usable (the peer has not closed it or sent anything).</summary>
    public bool LooksAlive()
    {
        try
        {
            return _socket.Connected && !_socket.Poll(0, SelectMode.SelectRead);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Reads the status line and headers; skips interim 1xx responses. Null when the peer closed before a byte.</summary>
    public async Task<Http1ResponseHead?> ReadHeadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int end;
            while ((end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8)) < 0)
            {
                if (_end - _start >= MaxHead)
                {
                    throw new IOException("the function's response head is larger than 64 KiB");
                }

                if (!await FillAsync(cancellationToken))
                {
                    if (_end == _start)
                    {
                        return null;
                    }

                    throw new IOException("the function closed the connection inside the response head");
                }
            }

            var head = Http1ResponseHead.Parse(Encoding.Latin1.GetString(_buffer, _start, end));
            _start += end + 4;
            if (head.Status is >= 100 and < 200 && head.Status != 101)
            {
                continue;
            }

            return head;
        }
    }

    /// <summary>Reads body bytes: buffered ones first, then from the socket. 0 means the peer closed.</summary>
    public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (_end > _start)
        {
            var count = Math.Min(destination.Length, _end - _start);
            _buffer.AsMemory(_start, count).CopyTo(destination);
            _start += count;
            return count;
        }

        return await Stream.ReadAsync(destination, cancellationToken);
    }

    /// <summary>Reads one CRLF-terminated line (chunk sizes, trailers).</summary>
    public async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        int end;
        while ((end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0)
        {
            if (_end - _start >= 8192 || !await FillAsync(cancellationToken))
            {
                throw new IOException("the function's chunked response is malformed or cut short");
            }
        }

        var line = Encoding.Latin1.GetString(_buffer, _start, end);
        _start += end + 2;
        return line;
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            Buffer.BlockCopy(_buffer, 0, bigger, 0, _end);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }

        var read = await Stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        _end += read;
        return read > 0;
    }

    /// <summary>True when nothing unread is left over (safe to reuse for the next request).</summary>
    public bool IsDrained => _start == _end;

    public void Dispose()
    {
        Stream.Dispose();
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
