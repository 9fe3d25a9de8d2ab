namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// Sends <c>size</c> pattern bytes to a server that streams them back, reading the answer while
/// still sending (full duplex), and checks every byte; for the constant-memory specs.
/// </summary>
internal static class PatternEcho
{
    /// <summary>The status, the bytes that came back (all checked against the pattern) and the growth of the heap's peak meanwhile.</summary>
    public static async Task<(int Status, long Received, long HeapGrowth)> RunAsync(Uri server, string path, long size, bool chunked)
    {
        using var heap = HeapPeak.Start();
        await using var client = await RawHttpClient.ConnectAsync(server);
        await client.SendHeadAsync("POST", path, chunked ? null : size);
        var sending = chunked ? SendChunkedAsync(client.Stream, size) : new PatternStream(size).CopyToAsync(client.Stream, 256 * 1024);
        var (status, headers) = await client.ReadHeadAsync();
        using var received = new PatternStream.Verifier();
        await client.ReadBodyAsync(headers, received.WriteAsync);
        await sending;
        return (status, received.Length, await heap.StopAsync());
    }

    /// <summary>Pattern bytes in 64 KiB chunks of chunked transfer coding, then the last chunk.</summary>
    public static async Task SendChunkedAsync(Stream stream, long size)
    {
        var source = new PatternStream(size);
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await source.ReadAsync(buffer)) > 0)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(read.ToString("X", CultureInfo.InvariantCulture) + "\r\n"));
            await stream.WriteAsync(buffer.AsMemory(0, read));
            await stream.WriteAsync("\r\n"u8.ToArray());
        }

        await stream.WriteAsync("0\r\n\r\n"u8.ToArray());
    }
}
