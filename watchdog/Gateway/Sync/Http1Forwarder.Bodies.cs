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

    private static async Task CopyBodyAsync(Http1Connection connection, Http1ResponseHead head, Stream destination, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            if (head.Chunked)
            {
                while (true)
                {
                    var line = await connection.ReadLineAsync(cancellationToken);
                    var semicolon = line.IndexOf(';', StringComparison.Ordinal);
                    if (!long.TryParse(semicolon < 0 ? line : line[..semicolon], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var size) || size < 0)
                    {
                        throw new IOException($"the function sent a bad chunk size (\"{line}\")");
                    }

                    if (size == 0)
                    {
                        while ((await connection.ReadLineAsync(cancellationToken)).Length > 0)
                        {
                        }

                        return;
                    }

                    await CopyExactlyAsync(connection, size, destination, buffer, cancellationToken);
                    if ((await connection.ReadLineAsync(cancellationToken)).Length != 0)
                    {
                        throw new IOException("the function sent a chunk without its closing CRLF");
                    }
                }
            }

            if (head.ContentLength is { } length)
            {
                await CopyExactlyAsync(connection, length, destination, buffer, cancellationToken);
                return;
            }

            int read;
            while ((read = await connection.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task CopyExactlyAsync(Http1Connection connection, long count, Stream destination, byte[] buffer, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            var read = await connection.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), cancellationToken);
            if (read == 0)
            {
                throw new IOException($"the function closed the connection {count} bytes before the end of its response");
            }

            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            count -= read;
        }
    }
}
