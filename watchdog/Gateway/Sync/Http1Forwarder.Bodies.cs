using System.Buffers;
using System.Globalization;
using System.Text;

namespace Fwatchdog.Gateway.Sync;

/// <summary>Body framing: the request pumped out (chunked when its length is unknown), the response copied in.</summary>
internal sealed partial class Http1Forwarder
{
    private static async Task PumpBodyAsync(Stream source, Stream destination, long? length, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, buffer.Length - 16), cancellationToken)) > 0)
            {
                if (length is null)
                {
                    await destination.WriteAsync(Encoding.ASCII.GetBytes(read.ToString("X", CultureInfo.InvariantCulture) + "\r\n"), cancellationToken);
                    await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    await destination.WriteAsync("\r\n"u8.ToArray(), cancellationToken);
                }
                else
                {
                    await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }

            if (length is null)
            {
                await destination.WriteAsync("0\r\n\r\n"u8.ToArray(), cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Copies the response body as framed by <paramref name="head"/>; a body the status forbids (205) is refused.</summary>
    private static async Task CopyBodyAsync(Http1Connection connection, Http1ResponseHead head, Stream destination, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var sink = head.Status == 205 ? Stream.Null : destination;
        try
        {
            switch (head.Framing)
            {
                case Http1Framing.Chunked:
                    long size;
                    while ((size = ParseChunkSize((await connection.ReadLineAsync(cancellationToken)).Span)) > 0)
                    {
                        RefuseContent(head, size);
                        await CopyExactlyAsync(connection, size, sink, buffer, cancellationToken);
                        if ((await connection.ReadLineAsync(cancellationToken)).Length != 0)
                        {
                            throw new Http1ResponseException("the upstream sent a chunk longer than its size or without its closing CRLF");
                        }
                    }

                    // Trailer fields are checked like headers and not passed on.
                    ReadOnlyMemory<byte> trailer;
                    while ((trailer = await connection.ReadLineAsync(cancellationToken)).Length > 0)
                    {
                        Http1ResponseHead.CheckTrailer(trailer.Span);
                    }

                    return;
                case Http1Framing.ContentLength:
                    RefuseContent(head, head.ContentLength ?? 0);
                    await CopyExactlyAsync(connection, head.ContentLength ?? 0, sink, buffer, cancellationToken);
                    return;
                default:
                    int read;
                    while ((read = await connection.ReadAsync(buffer, cancellationToken)) > 0)
                    {
                        RefuseContent(head, read);
                        await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    }

                    return;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
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

    private static async Task CopyExactlyAsync(Http1Connection connection, long count, Stream destination, byte[] buffer, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            var read = await connection.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), cancellationToken);
            if (read == 0)
            {
                throw new Http1ResponseException($"the upstream closed the connection {count} bytes before the end of its response");
            }

            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            count -= read;
        }
    }
}
