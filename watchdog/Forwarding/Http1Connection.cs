using System.Buffers;
using System.Net.Sockets;

namespace Fwatchdog.Forwarding;

/// <summary>
/// One pooled HTTP/1.1 connection to an upstream, with a read buffer for the response head and
/// body framing. Reads and writes are independent, so the request body can still be going out
/// while the response comes in (full duplex, which .NET's HttpClient does not do for HTTP/1.1).
/// </summary>
internal sealed class Http1Connection : IDisposable
{
    private const int BufferSize = 16 * 1024;
    private const int MaxHead = 64 * 1024;
    private const int MaxLine = 8 * 1024;
    private const int MaxInterim = 8;
    private readonly Socket _socket;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private int _start;
    private int _end;

    /// <summary>
    /// Odd while a call holds the connection, even while it is idle in the pool (one value per
    /// idle spell), negative once closed (<see cref="Dead"/>, far enough below zero that a stray
    /// <see cref="Release"/> cannot bring it back).
    /// </summary>
    private long _lease = 1;
    private const long Dead = long.MinValue;


    private Http1Connection(Socket socket)
    {
        _socket = socket;
        Stream = new NetworkStream(socket, ownsSocket: true);
    }

    public NetworkStream Stream { get; }

    /// <summary>True when it came from the pool (it served an earlier request).</summary>
    public bool Reused { get; set; }

    public long IdleSince { get; set; }

    /// <summary>A connection made by <paramref name="connect"/>, or a plain one when it is null.</summary>
    public static async Task<Http1Connection> ConnectAsync(string host, int port, Func<string, int, CancellationToken, ValueTask<Socket>>? connect, CancellationToken cancellationToken) =>
        connect is null ? await ConnectAsync(host, port, cancellationToken) : new Http1Connection(await connect(host, port, cancellationToken));

    public static async Task<Http1Connection> ConnectAsync(string host, int port, CancellationToken cancellationToken) =>
        new(await TcpConnect.ConnectAsync(host, port, cancellationToken));

    /// <summary>
    /// Whether an idle connection may carry another request: nothing unread in our buffer and
    /// nothing readable on the socket. A readable idle socket holds either the upstream's close
    /// (a stale keep-alive connection) or bytes nobody asked for (a response that would go to the
    /// next caller): either way it is done for. One poll(2) with a zero timeout, on every reuse.
    /// </summary>
    public bool IsIdleAndClean()
    {
        try
        {
            return _start == _end && _socket.Connected && !_socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>
    /// Puts the connection in the pool's hands and returns the lease of this idle spell, for
    /// <see cref="WatchIdleAsync"/>. The call that held it must not touch it again.
    /// </summary>
    public long Release() => Interlocked.Increment(ref _lease);

    /// <summary>
    /// Takes the connection out of its idle spell for a call; false when it is closed (the idle
    /// watch saw bytes or the upstream's close). The watch's read stays pending (cancelling it
    /// costs an exception per call): it takes no byte off the socket, so the call's own reads still
    /// get every byte of its answer, and when it completes it finds the lease no longer its own and
    /// leaves the connection alone.
    /// </summary>
    public bool TryTake()
    {
        var lease = Volatile.Read(ref _lease);
        return lease >= 0 && lease % 2 == 0 && Interlocked.CompareExchange(ref _lease, lease + 1, lease) == lease;
    }

    /// <summary>
    /// Waits, while the connection is idle, for anything to arrive on it: bytes nobody asked for
    /// or the upstream's close (a zero-byte read, which takes no byte off the socket, as Go's
    /// transport keeps a read pending on every idle connection). When it fires within the same
    /// idle spell (<paramref name="lease"/>), the connection is closed at once and true returned.
    /// Once a call has taken the connection (<see cref="TryTake"/>), the read completing finds the
    /// lease no longer its own and leaves the connection alone; bytes that arrived before the take
    /// are caught by the call's reuse check (<see cref="IsIdleAndClean"/>, after the take).
    /// </summary>
    public async Task<bool> WatchIdleAsync(long lease)
    {
        try
        {
            await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Reset or closed: the same as bytes, if the connection is still idle.
        }

        if (Interlocked.CompareExchange(ref _lease, Dead, lease) != lease)
        {
            return false;
        }

        Dispose();
        return true;
    }

    /// <summary>
    /// True when a failed write of <paramref name="bytes"/> bytes means none of them left: the
    /// kernel takes a write no larger than the send buffer of an idle connection in one go, so
    /// such a write either went out whole or failed before its first byte.
    /// </summary>
    public bool FailedWriteSentNothing(int bytes)
    {
        try
        {
            return bytes <= _socket.SendBufferSize;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>
    /// Reads the status line and headers of the final response, skipping interim ones (100, 102,
    /// 103). Null when the upstream closed before sending a byte.
    /// </summary>
    public async Task<Http1ResponseHead?> ReadHeadAsync(CancellationToken cancellationToken)
    {
        for (var interim = 0; ; interim++)
        {
            int end;
            var scanned = 0;
            while ((end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8)) < 0)
            {
                RefuseBareLineFeed(scanned, _end - _start);
                scanned = Math.Max(0, _end - _start - 1);
                if (_end - _start >= MaxHead)
                {
                    throw new Http1ResponseException($"the upstream's response head is larger than {MaxHead / 1024} KiB");
                }

                if (!await FillAsync(cancellationToken))
                {
                    if (_end == _start && interim == 0)
                    {
                        return null;
                    }

                    throw new Http1ResponseException("the upstream closed the connection inside the response head");
                }
            }

            RefuseBareLineFeed(scanned, end + 4);
            var head = Http1ResponseHead.Parse(_buffer.AsSpan(_start, end));
            _start += end + 4;
            if (head.Status == 101)
            {
                throw new Http1ResponseException("the upstream switched protocols (101) though no upgrade was asked for");
            }

            if (head.Status >= 200)
            {
                return head;
            }

            if (interim == MaxInterim)
            {
                throw new Http1ResponseException($"the upstream sent more than {MaxInterim} interim (1xx) responses");
            }
        }
    }

    /// <summary>Every line of a response head ends in CRLF; a lone LF (or CR) is refused, not taken as a line end (RFC 9112 2.2).</summary>
    private void RefuseBareLineFeed(int from, int to)
    {
        var data = _buffer.AsSpan(_start, to);
        for (var i = Math.Max(from, 0); i < data.Length; i++)
        {
            if ((data[i] == '\n' && (i == 0 || data[i - 1] != '\r')) || (data[i] == '\r' && i + 1 < data.Length && data[i + 1] != '\n'))
            {
                throw new Http1ResponseException("the upstream sent a bare CR or LF in its response head");
            }
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

    /// <summary>
    /// Reads one CRLF-terminated line (chunk sizes, trailers), without its CRLF. The bytes are the
    /// connection's own buffer: valid until the next read.
    /// </summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadLineAsync(CancellationToken cancellationToken)
    {
        int end;
        while ((end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0)
        {
            if (_end - _start >= MaxLine)
            {
                throw new Http1ResponseException($"the upstream sent a chunk or trailer line longer than {MaxLine / 1024} KiB");
            }

            if (!await FillAsync(cancellationToken))
            {
                throw new Http1ResponseException("the upstream closed the connection before the end of its chunked response");
            }
        }

        var line = _buffer.AsMemory(_start, end);
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

    /// <summary>True when nothing unread is left in our buffer.</summary>
    public bool IsDrained => _start == _end;

    /// <summary>True when body bytes are waiting in our buffer (a read will not touch the socket).</summary>
    public bool HasBuffered => _end > _start;

    /// <summary>True when a whole line is waiting in our buffer (<see cref="ReadLineAsync"/> will not touch the socket).</summary>
    public bool HasBufferedLine => _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8) >= 0;

    public void Dispose()
    {
        Interlocked.Exchange(ref _lease, Dead);
        Stream.Dispose();
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
