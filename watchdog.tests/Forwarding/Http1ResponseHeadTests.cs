using Fwatchdog.Forwarding;

namespace Fwatchdog.Tests.Forwarding;

/// <summary>
/// Response heads as bytes, read the way the forwarder reads them (<see cref="Http1Connection.ReadHeadAsync"/>
/// on an in-process loopback socket, then <see cref="Http1ResponseHead.Parse"/>): what a well-formed head
/// says about its framing, and that each hostile head of HostileUpstreamSpecs is refused for its own reason.
/// </summary>
public sealed class Http1ResponseHeadTests : FastTier
{
    [Theory(Timeout = 10_000)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "200 ContentLength 2 keep")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "200 Chunked - keep")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n", "200 Chunked - keep")]
    [InlineData("HTTP/1.1 200 OK\r\n\r\nuntil close", "200 UntilClose - keep")]
    [InlineData("HTTP/1.1 204\r\n\r\n", "204 UntilClose - keep")]
    [InlineData("HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n", "404 ContentLength 0 keep")]
    [InlineData("HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n", "200 ContentLength 0 close")]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "200 ContentLength 2 close")]
    [InlineData("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok", "200 ContentLength 2 keep")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", "200 ContentLength 5 keep")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", "200 ContentLength 5 keep")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length:7\r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n", "200 ContentLength 7 keep")]
    [InlineData("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", "201 ContentLength 0 keep")]
    [InlineData("", "no answer")]
    public async Task A_well_formed_head_gives_its_status_and_framing(string raw, string expected)
    {
        (await ReadAsync(Encoding.Latin1.GetBytes(raw))).Should().Be(expected);
    }

    [Fact(Timeout = 10_000)]
    public async Task Header_bytes_from_0x80_up_pass_unchanged()
    {
        var raw = Encoding.UTF8.GetBytes("HTTP/1.1 200 OK\r\nX-Name: Zoë 🚀\r\nContent-Length: 0\r\n\r\n");

        var head = await ReadHeadAsync(raw);

        head.Should().NotBeNull();
        Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(head?.Headers.Single(h => h.Name == "X-Name").Value ?? "")).Should().Be("Zoë 🚀");
    }

    [Theory(Timeout = 10_000)]
    [InlineData("HTTP/1.1 200 OK\nContent-Length: 2\n\nok", "bare CR or LF")]
    [InlineData("HTTP/1.1 200 OK\r\nX-A: a\nb\r\nContent-Length: 2\r\n\r\nok", "bare CR or LF")]
    [InlineData("HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\nok", "bare CR or LF")]
    [InlineData("HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok", "obs-fold")]
    [InlineData("HTTP/1.1 200 OK\r\nX-A: a\r\n\tb\r\nContent-Length: 2\r\n\r\nok", "obs-fold")]
    [InlineData("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "header name with a character not allowed")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\n", "header name with a character not allowed")]
    [InlineData("HTTP/1.1 200 OK\r\n: no name\r\n\r\n", "without a name")]
    [InlineData("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "without a name")]
    [InlineData("HTTP/1.1 200 OK\r\nX-Bad: a\u0001b\r\n\r\n", "control character (0x01) in header X-Bad")]
    [InlineData("HTTP/1.1 200 OK\r\nX-Bad: a\u007Fb\r\n\r\n", "control character (0x7F) in header X-Bad")]
    [InlineData("HTTP/1.1 200 OK\r\nX-Bad: a\u0000b\r\n\r\n", "control character (0x00) in header X-Bad")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", "two different Content-Lengths (2 and 3)")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\n", "two different Content-Lengths (2 and 3)")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\n", "invalid Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", "invalid Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "invalid Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456789\r\n\r\n", "invalid Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "Transfer-Encoding this gateway does not take")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "Transfer-Encoding this gateway does not take")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding this gateway does not take")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", "both Content-Length and Transfer-Encoding")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n", "both Content-Length and Transfer-Encoding")]
    [InlineData("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding in an HTTP/1.0 response")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "switched protocols (101)")]
    [InlineData("HTTP/1.1 600 Odd\r\n\r\n", "status 600, outside 100-599")]
    [InlineData("HTTP/1.1 099 Low\r\n\r\n", "status 99, outside 100-599")]
    [InlineData("HTTP/1.1 20 OK\r\n\r\n", "without a three-digit status")]
    [InlineData("HTTP/1.1 2000 OK\r\n\r\n", "without a three-digit status")]
    [InlineData("HTTP/1.1 2x0 OK\r\n\r\n", "without a three-digit status")]
    [InlineData("ICY 200 OK\r\n\r\n", "no HTTP/1.0 or HTTP/1.1 status line (\"ICY 200 OK\")")]
    [InlineData("HTTP/2 200\r\n\r\n", "no HTTP/1.0 or HTTP/1.1 status line")]
    [InlineData("http/1.1 200 OK\r\n\r\n", "no HTTP/1.0 or HTTP/1.1 status line")]
    [InlineData("HTTP/1.1 200 O\u0000K\r\n\r\n", "control character in its reason phrase")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Le", "closed the connection inside the response head")]
    public async Task A_hostile_head_is_refused_for_its_own_reason(string raw, string reason)
    {
        (await ReadAsync(Encoding.Latin1.GetBytes(raw))).Should().StartWith("refused: the upstream").And.Contain(reason);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_head_over_64_KiB_is_refused_before_it_ends()
    {
        var raw = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nX-Huge: " + new string('a', 70_000) + "\r\n\r\n");

        (await ReadAsync(raw)).Should().Be("refused: the upstream's response head is larger than 64 KiB");
    }

    [Fact(Timeout = 10_000)]
    public async Task More_than_eight_interim_responses_are_refused()
    {
        var raw = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("HTTP/1.1 103 Early Hints\r\n\r\n", 9)) + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");

        (await ReadAsync(raw)).Should().Be("refused: the upstream sent more than 8 interim (1xx) responses");
        (await ReadAsync(raw[Encoding.ASCII.GetByteCount("HTTP/1.1 103 Early Hints\r\n\r\n")..])).Should().Be("200 ContentLength 0 keep", "eight are read past");
    }

    /// <summary>"status framing length close|keep", "no answer", or or "refused: " and the message.</summary>
    private static async Task<string> ReadAsync(byte[] raw)
    {
        try
        {
            return await ReadHeadAsync(raw) is { } head
                ? $"{head.Status.ToString(CultureInfo.InvariantCulture)} {head.Framing} {head.ContentLength?.ToString(CultureInfo.InvariantCulture) ?? "-"} {(head.Close ? "close" : "keep")}"
                : "no answer";
        }
        catch (Http1ResponseException e)
        {
            return "refused: " + e.Message;
        }
    }

    /// <summary>Writes <paramref name="raw"/> from the far end of a loopback connection, closes it, and reads one head.</summary>
    private static async Task<Http1ResponseHead?> ReadHeadAsync(byte[] raw)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accepting = listener.AcceptSocketAsync();
        using var connection = await Http1Connection.ConnectAsync("127.0.0.1", port, CancellationToken.None);
        using var upstream = await accepting;
        await upstream.SendAsync(raw);
        upstream.Shutdown(SocketShutdown.Send);
        return await connection.ReadHeadAsync(CancellationToken.None);
    }
}
