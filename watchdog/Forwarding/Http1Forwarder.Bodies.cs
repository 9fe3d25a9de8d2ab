using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using Fwatchdog.Streaming;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Forwarding;

/// <summary>Body framing: the request pumped out (chunked when its length is unknown), the response copied in.</summary>
internal sealed partial class Http1Forwarder
{
    private static readonly ReadOnlyMemory<byte> LastChunk = "0\r\n\r\n"u8.ToArray();

    /// <summary>
    /// The caller's streamed body on its way to the upstream (<see cref="PumpBodyAsync"/>), beside
    /// the answer coming back. Disposing waits for the pump: it reads what is left of the body.
    /// </summary>
    private sealed class BodyPump : IAsyncDisposable
    {
        /// <summary>No body to stream: it was small and went with the head, or there is none.</summary>
        public static readonly BodyPump None = new(Task.FromResult(true), null);

        private readonly Task<bool> _pump;
        private readonly CancellationTokenSource? _stopSending;

        private BodyPump(Task<bool> pump, CancellationTokenSource? stopSending)
        {
            _pump = pump;
            _stopSending = stopSending;
        }

        /// <summary>The whole body reached the upstream.</summary>
        public bool SentWholeBody => _pump.IsCompleted && _pump.Result;

        /// <summary>Starts sending <paramref name="body"/>'s bytes to <paramref name="destination"/>; <see cref="None"/> when there is no streamed body.</summary>
        public static BodyPump Start(HttpRequest request, Stream destination, ResponseSpool spool, CallerBody? body, CancellationToken deadline)
        {
            if (body is null)
            {
                return None;
            }

            var stopSending = CancellationTokenSource.CreateLinkedTokenSource(deadline);
            return new(PumpBodyAsync(request.Body, destination, request.ContentLength, spool, body, stopSending.Token, deadline), stopSending);
        }

        /// <summary>
        /// An answer that came before the caller finished its body (a 401, a 413) is complete:
        /// the rest of the body goes to the bin, not to the upstream.
        /// </summary>
        public async Task StopSendingAsync()
        {
            if (!_pump.IsCompleted && _stopSending is not null)
            {
                await _stopSending.CancelAsync();
            }
        }

        /// <summary>The connection is going away: nothing more is sent to it.</summary>
        public void StopSending() => _stopSending?.Cancel();

        public async ValueTask DisposeAsync()
        {
            await _pump;
            _stopSending?.Dispose();
        }
    }

    /// <summary>
    /// Sends the request body; of unknown length, each read goes out as one chunk, its size line and
    /// CRLF in the same write. Once the upstream takes no more (it failed, or answered and
    /// <paramref name="stopSending"/> fired), the rest is read and thrown away, at most
    /// <see cref="SpoolLimits.MaxDiscardBytes"/> within <see cref="SpoolLimits.DiscardTime"/>. Reads are cancelled only by
    /// <paramref name="cancellationToken"/> (the call's deadline). Returns whether the whole body reached the upstream.
    /// A body that breaks HTTP/1.1 (bad chunked framing, a body that ends early, past a size limit:
    /// <see cref="RequestBodyErrors"/>) is handed to <paramref name="refused"/>, which ends the call.
    /// </summary>
    private static async Task<bool> PumpBodyAsync(
        Stream source, Stream destination, long? length, ResponseSpool spool, CallerBody refused, CancellationToken stopSending, CancellationToken cancellationToken)
    {
        const int Room = 16; // a size line ("FFFFFFFF\r\n") before the data, CRLF after it
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var sending = true;
        long discarded = 0;
        CancellationTokenSource? discarding = null; // reads of a body nobody wants get SpoolLimits.DiscardTime from here
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(Room, buffer.Length - (2 * Room)), discarding?.Token ?? cancellationToken)) > 0)
            {
                if (sending && !stopSending.IsCancellationRequested)
                {
                    var start = length is null ? FrameChunk(buffer, Room, read) : Room;
                    var end = length is null ? Room + read + 2 : Room + read;
                    sending = await TrySendAsync(destination, buffer.AsMemory(start, end - start), stopSending);
                    continue;
                }

                sending = false;
                if (discarding is null)
                {
                    discarding = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    discarding.CancelAfter(SpoolLimits.DiscardTime);
                }

                if ((discarded += read) > SpoolLimits.MaxDiscardBytes)
                {
                    return false;
                }
            }

            return sending && (length is not null || await TrySendAsync(destination, LastChunk, stopSending));
        }
        catch (Exception e) when (e is BadHttpRequestException || RequestBodyErrors.IsMalformed(e))
        {
            refused.Refuse(e);
            return false;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ConnectionResetException or ObjectDisposedException)
        {
            return false; // the caller's body broke off or took too long: the call's own handling says what happens
        }
        finally
        {
            discarding?.Dispose();
            spool.EndOfInput();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>False when the upstream no longer takes the body (it closed, or <paramref name="stopSending"/> fired).</summary>
    private static async ValueTask<bool> TrySendAsync(Stream destination, ReadOnlyMemory<byte> bytes, CancellationToken stopSending)
    {
        try
        {
            await destination.WriteAsync(bytes, stopSending);
            return true;
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Writes the size line just before the <paramref name="length"/> bytes at <paramref name="offset"/> and CRLF after them; returns where the chunk starts.</summary>
    private static int FrameChunk(byte[] buffer, int offset, int length)
    {
        Span<byte> digits = stackalloc byte[8];
        length.TryFormat(digits, out var count, "X", CultureInfo.InvariantCulture);
        var start = offset - count - 2;
        digits[..count].CopyTo(buffer.AsSpan(start));
        "\r\n"u8.CopyTo(buffer.AsSpan(offset - 2));
        "\r\n"u8.CopyTo(buffer.AsSpan(offset + length));
        return start;
    }

    /// <summary>
    /// Copies the response body as framed by <paramref name="head"/>; a body the status forbids (205)
    /// is refused. Bytes go into the response's pipe and are sent only when the next read has to
    /// wait on the upstream's socket (<see cref="FlushBeforeWaitAsync"/>) and once at the end: a
    /// streamed answer still reaches the caller piece by piece as it arrives, and an answer read
    /// whole goes out in one write (the head and a Content-Length body in one send, where a flush
    /// per write made two). The last flush is ours, under the caller's write timeout, not Kestrel's
    /// after the handler returns, where no timeout would reach a caller that stopped reading.
    /// </summary>
    private static Task CopyBodyAsync(Http1Connection connection, Http1ResponseHead head, BodySink sink, CancellationToken cancellationToken) =>
        CopyFramedBodyAsync(connection, head, head.Status == 205 ? null : sink, cancellationToken);

    /// <summary>
    /// The response body as the copy writes it, through the spool. The first bytes commit the head
    /// (without sending it): from then on a body that breaks off reaches the caller broken, never
    /// as a clean error.
    /// </summary>
    private sealed class BodySink(HttpResponse response, ResponseSpool spool)
    {
        /// <summary>Bytes written and not sent yet.</summary>
        public long Pending => !response.HasStarted ? 0 : spool.Pending;

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
        {
            if (!response.HasStarted)
            {
                await response.StartAsync(cancellationToken);
            }

            spool.Write(bytes.Span);
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken) => spool.FlushAsync(cancellationToken);
    }

    private static async Task CopyFramedBodyAsync(Http1Connection connection, Http1ResponseHead head, BodySink? sink, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            switch (head.Framing)
            {
                case Http1Framing.Chunked:
                    long size;
                    while ((size = ParseChunkSize((await ReadLineAsync(connection, sink, cancellationToken)).Span)) > 0)
                    {
                        RefuseContent(head, size);
                        await CopyExactlyAsync(connection, size, sink, buffer, cancellationToken);
                        if ((await ReadLineAsync(connection, sink, cancellationToken)).Length != 0)
                        {
                            throw new Http1ResponseException("the upstream sent a chunk longer than its size or without its closing CRLF");
                        }
                    }

                    // Trailer fields are checked like headers and not passed on.
                    ReadOnlyMemory<byte> trailer;
                    while ((trailer = await ReadLineAsync(connection, sink, cancellationToken)).Length > 0)
                    {
                        Http1ResponseHead.CheckTrailer(trailer.Span);
                    }

                    return;
                case Http1Framing.ContentLength:
                    RefuseContent(head, head.ContentLength ?? 0);
                    await CopyExactlyAsync(connection, head.ContentLength ?? 0, sink, buffer, cancellationToken);
                    return;
                default:
                    while (true)
                    {
                        await FlushBeforeWaitAsync(connection.HasBuffered, sink, cancellationToken);
                        var read = await connection.ReadAsync(buffer, cancellationToken);
                        if (read == 0)
                        {
                            return;
                        }

                        RefuseContent(head, read);
                        await (sink?.WriteAsync(buffer.AsMemory(0, read), cancellationToken) ?? ValueTask.CompletedTask);
                    }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>One chunk-size or trailer line; the bytes are valid until the next read from <paramref name="connection"/>.</summary>
    private static async ValueTask<ReadOnlyMemory<byte>> ReadLineAsync(Http1Connection connection, BodySink? sink, CancellationToken cancellationToken)
    {
        await FlushBeforeWaitAsync(connection.HasBufferedLine, sink, cancellationToken);
        return await connection.ReadLineAsync(cancellationToken);
    }

    /// <summary>Sends what the response holds so far unless the next bytes are already in the connection's buffer.</summary>
    private static async ValueTask FlushBeforeWaitAsync(bool buffered, BodySink? sink, CancellationToken cancellationToken)
    {
        if (!buffered && sink is not null && sink.Pending > 0)
        {
            await sink.FlushAsync(cancellationToken);
        }
    }

    /// <summary>205 Reset Content has no content (RFC 9110 15.3.6).</summary>
    private static void RefuseContent(Http1ResponseHead head, long bytes)
    {
        if (head.Status == 205 && bytes > 0)
        {
            throw new Http1ResponseException("the upstream sent content with 205 Reset Content");
        }
    }

    /// <summary>chunk-size [ chunk-ext ]: 1 to 15 hex digits, then optionally BWS ";" and extensions without control characters.</summary>
    internal static long ParseChunkSize(ReadOnlySpan<byte> line)
    {
        var digits = 0;
        long size = 0;
        while (digits < line.Length && HexValue(line[digits]) is var value and >= 0)
        {
            if (++digits > 15)
            {
                throw new Http1ResponseException("the upstream sent a chunk size of more than 15 hex digits");
            }

            size = (size << 4) | (uint)value;
        }

        var rest = line[digits..].TrimStart(" \t"u8);
        if (digits == 0 || (!rest.IsEmpty && rest[0] != (byte)';'))
        {
            throw new Http1ResponseException($"the upstream sent a bad chunk size (\"{Http1ResponseHead.Show(line)}\")");
        }

        foreach (var b in rest)
        {
            if (b is < 0x20 and not (byte)'\t' or 0x7F)
            {
                throw new Http1ResponseException("the upstream sent a control character in a chunk extension");
            }
        }

        return size;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    private static async Task CopyExactlyAsync(Http1Connection connection, long count, BodySink? sink, byte[] buffer, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            await FlushBeforeWaitAsync(connection.HasBuffered, sink, cancellationToken);
            var read = await connection.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), cancellationToken);
            if (read == 0)
            {
                throw new Http1ResponseException($"the upstream closed the connection {count} bytes before the end of its response");
            }

            await (sink?.WriteAsync(buffer.AsMemory(0, read), cancellationToken) ?? ValueTask.CompletedTask);
            count -= read;
        }
    }
}
