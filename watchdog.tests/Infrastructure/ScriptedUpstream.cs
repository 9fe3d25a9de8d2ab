using System.Collections.Concurrent;

namespace Fwatchdog.Tests.Infrastructure;

/// <summary>One request as a <see cref="ScriptedUpstream"/> read it, and on which connection.</summary>
internal sealed record ScriptedRequest(int Connection, int IndexOnConnection, string Method, string Target, IReadOnlyDictionary<string, string> Headers)
{
    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : "";
}

/// <summary>
/// A hostile (or merely strict) HTTP/1.1 upstream on a raw socket: it parses each request head
/// itself and lets a script write whatever bytes it likes back, at any moment, on the same
/// connection: malformed heads, broken framing, bytes nobody asked for, early closes.
/// </summary>
internal sealed class ScriptedUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<ScriptedExchange, Task> _script;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<TcpClient> _clients = [];
    private readonly ConcurrentDictionary<int, bool> _closedIds = new();
    private readonly Task _accepting;
    private int _connections;
    private int _closed;

    private readonly TimeSpan? _idleClose;

    private ScriptedUpstream(Func<ScriptedExchange, Task> script, TimeSpan? idleClose)
    {
        _script = script;
        _idleClose = idleClose;
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _accepting = AcceptLoopAsync();
    }

    public Uri Url { get; }

    /// <summary>Every request read, in order of arrival.</summary>
    public ConcurrentQueue<ScriptedRequest> Requests { get; } = new();

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Connections this side has finished with (closed, or seen closed).</summary>
    public int ClosedConnections => Volatile.Read(ref _closed);

    /// <summary>Whether this side has finished with connection <paramref name="connection"/> (it closed it, or saw it closed).</summary>
    public bool IsClosed(int connection) => _closedIds.ContainsKey(connection);

    /// <summary>Starts it; with <paramref name="idleClose"/>, a connection with no new request for that long is closed (a keep-alive timeout).</summary>
    public static ScriptedUpstream Start(Func<ScriptedExchange, Task> script, TimeSpan? idleClose = null) => new(script, idleClose);

    /// <summary>A well-formed answer: 200 with <c>own:</c> and the request's X-Marker, framed by Content-Length.</summary>
    public static byte[] OwnAnswer(ScriptedRequest request)
    {
        var body = "own:" + request.Header("X-Marker");
        return Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\n\r\n{body}");
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            // No Nagle: once a script's write returns, its bytes are on the gateway's socket (on loopback).
            client.NoDelay = true;
            _clients.Add(client);
            _ = ServeAsync(client, Interlocked.Increment(ref _connections));
        }
    }

    private async Task ServeAsync(TcpClient client, int connection)
    {
        var reader = new ScriptedReader(client.GetStream());
        try
        {
            for (var index = 1; ; index++)
            {
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                if (_idleClose is { } limit)
                {
                    idle.CancelAfter(limit);
                }

                var head = await reader.ReadHeadAsync(idle.Token);
                if (head is null)
                {
                    return;
                }

                var request = Parse(head, connection, index);
                Requests.Enqueue(request);
                var exchange = new ScriptedExchange(request, client, reader);
                await _script(exchange);
                if (exchange.Closed)
                {
                    return;
                }

                await exchange.ReadBodyAsync();
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The gateway hung up: that is one of the things under test, not an error here.
        }
        finally
        {
            client.Dispose();
            _closedIds[connection] = true;
            Interlocked.Increment(ref _closed);
        }
    }

    private static ScriptedRequest Parse(string head, int connection, int index)
    {
        var lines = head.Split("\r\n");
        var first = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim();
            headers[name] = headers.TryGetValue(name, out var earlier) ? earlier + ", " + value : value;
        }

        return new ScriptedRequest(connection, index, first[0], first[1], headers);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await _accepting;
        _stop.Dispose();
    }
}

/// <summary>One request in a <see cref="ScriptedUpstream"/>: the script writes raw bytes back, reads the body when it wants, or closes.</summary>
internal sealed class ScriptedExchange(ScriptedRequest request, TcpClient client, ScriptedReader reader)
{
    private bool _bodyRead;

    public ScriptedRequest Request => request;

    public bool Closed { get; private set; }

    /// <summary>The request body bytes (read on first use).</summary>
    public byte[] Body { get; private set; } = [];

    public Task WriteAsync(string latin1) => WriteAsync(Encoding.Latin1.GetBytes(latin1));

    public async Task WriteAsync(byte[] bytes)
    {
        var stream = client.GetStream();
        await stream.WriteAsync(bytes);
        await stream.FlushAsync();
    }

    public async Task ReadBodyAsync()
    {
        if (_bodyRead)
        {
            return;
        }

        _bodyRead = true;
        if (request.Header("Transfer-Encoding").Equals("chunked", StringComparison.OrdinalIgnoreCase))
        {
            using var body = new MemoryStream();
            while (true)
            {
                var size = int.Parse((await reader.ReadLineAsync()).Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (size == 0)
                {
                    await reader.ReadLineAsync();
                    break;
                }

                body.Write(await reader.ReadExactlyAsync(size));
                await reader.ReadLineAsync();
            }

            Body = body.ToArray();
        }
        else if (request.Header("Content-Length") is { Length: > 0 } length)
        {
            Body = await reader.ReadExactlyAsync(int.Parse(length, CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Half-closes the connection: a FIN to the gateway, while this side still reads (and sees the gateway close it).</summary>
    public void CloseSending() => client.Client.Shutdown(SocketShutdown.Send);

    /// <summary>Closes the connection (a FIN; the gateway sees end of stream).</summary>
    public void Close()
    {
        Closed = true;
        client.Client.Shutdown(SocketShutdown.Both);
        client.Dispose();
    }
}

/// <summary>A small buffered reader for request heads, lines and exact counts.</summary>
internal sealed class ScriptedReader(NetworkStream stream)
{
    private readonly byte[] _buffer = new byte[256 * 1024];
    private int _start;
    private int _end;

    public async Task<string?> ReadHeadAsync(CancellationToken cancellationToken)
    {
        int at;
        while ((at = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (!await FillAsync(cancellationToken))
            {
                return null;
            }
        }

        var head = Encoding.Latin1.GetString(_buffer, _start, at);
        _start += at + 4;
        return head;
    }

    public async Task<string> ReadLineAsync()
    {
        int at;
        while ((at = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0)
        {
            if (!await FillAsync(CancellationToken.None))
            {
                throw new IOException("closed inside a line");
            }
        }

        var line = Encoding.Latin1.GetString(_buffer, _start, at);
        _start += at + 2;
        return line;
    }

    public async Task<byte[]> ReadExactlyAsync(int count)
    {
        var result = new byte[count];
        var done = 0;
        while (done < count)
        {
            if (_start == _end && !await FillAsync(CancellationToken.None))
            {
                throw new IOException("closed inside a body");
            }

            var n = Math.Min(count - done, _end - _start);
            _buffer.AsSpan(_start, n).CopyTo(result.AsSpan(done));
            _start += n;
            done += n;
        }

        return result;
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        _end += read;
        return read > 0;
    }
}
