using System.Security.Cryptography;

namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// The two kinds of HTTP/1.1 caller: one that sends its whole body before it reads the answer
/// (Python's http.client and requests, most SDKs) and one that reads while it sends (curl, the
/// gateway). Both send <c>size</c> bytes of a body and pass the answer's bytes to a sink.
/// </summary>
internal static class Callers
{
    public static Task<(int Status, Dictionary<string, string> Headers)> SendThenReadAsync(
        Uri server, string path, Stream body, Func<ReadOnlyMemory<byte>, Task> sink) => ExchangeAsync(server, path, body, sink, fullDuplex: false);

    public static Task<(int Status, Dictionary<string, string> Headers)> SendWhileReadingAsync(
        Uri server, string path, Stream body, Func<ReadOnlyMemory<byte>, Task> sink) => ExchangeAsync(server, path, body, sink, fullDuplex: true);

    /// <summary>Sends <paramref name="size"/> pattern bytes and checks that the same bytes come back; returns the status and how many came back.</summary>
    public static async Task<(int Status, long Received)> EchoAsync(Uri server, string path, long size, bool fullDuplex)
    {
        using var received = new PatternStream.Verifier();
        var (status, _) = await ExchangeAsync(server, path, new PatternStream(size), received.WriteAsync, fullDuplex);
        return (status, received.Length);
    }

    /// <summary>The SHA-256 of what <paramref name="stream"/> yields.</summary>
    public static string Sha256(Stream stream) => Convert.ToHexStringLower(SHA256.HashData(stream));

    private static async Task<(int Status, Dictionary<string, string> Headers)> ExchangeAsync(
        Uri server, string path, Stream body, Func<ReadOnlyMemory<byte>, Task> sink, bool fullDuplex)
    {
        await using var client = await RawHttpClient.ConnectAsync(server);
        await client.SendHeadAsync("POST", path, body.Length);
        var sending = body.CopyToAsync(client.Stream, 256 * 1024);
        if (!fullDuplex)
        {
            await sending;
        }

        var (status, headers) = await client.ReadHeadAsync();
        await client.ReadBodyAsync(headers, sink);
        await sending;
        return (status, headers);
    }
}
