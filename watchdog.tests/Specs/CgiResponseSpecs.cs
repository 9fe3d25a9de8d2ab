namespace Fwatchdog.Tests.Specs;

/// <summary>
/// What a function's CGI header block (<c>cgi_response=true</c>) may and may not do: status and
/// end-to-end headers only, never the framing of the connection. Each spec
/// talks raw HTTP/1.1 on one keep-alive connection and checks that the next request on it still
/// gets its own answer.
/// </summary>
public sealed class CgiResponseSpecs : FastTier
{
    [Fact(Timeout = 30_000)]
    public async Task A_function_cannot_smuggle_a_second_response_through_its_cgi_header_block()
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("cgi-head.sh", o => o with { CgiResponse = true });
        await using var client = await RawHttpClient.ConnectAsync(watchdog.Url);
        const string Forged = @"0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged";

        var first = await ExchangeAsync(client, @"X-Cgi-Head: Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\n", $"X-Cgi-Body: {Forged}");
        var second = await ExchangeAsync(client);

        first.Status.Should().Be(200);
        first.Body.Should().Be("0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged", "the function's bytes are the body, framed by the watchdog");
        second.Body.Should().Be("own answer", "the next request on the connection gets its own answer, not the forged one");
    }

    [Theory(Timeout = 30_000)]
    [InlineData("Transfer-Encoding: chunked")]
    [InlineData("Content-Length: 3")]
    [InlineData("Connection: close")]
    [InlineData("Keep-Alive: timeout=1")]
    [InlineData("Upgrade: websocket")]
    [InlineData("Trailer: X-Sum")]
    [InlineData("TE: trailers")]
    [InlineData("Proxy-Authenticate: Basic")]
    [InlineData("Proxy-Connection: close")]
    public async Task Framing_and_hop_by_hop_headers_from_a_cgi_block_are_dropped(string line)
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("cgi-head.sh", o => o with { CgiResponse = true });
        await using var client = await RawHttpClient.ConnectAsync(watchdog.Url);
        var name = line[..line.IndexOf(':', StringComparison.Ordinal)];

        var first = await ExchangeAsync(client, $@"X-Cgi-Head: {line}\r\nX-Kept: yes\r\n", "X-Cgi-Body: the body");
        var second = await ExchangeAsync(client);

        first.Status.Should().Be(200);
        first.Body.Should().Be("the body");
        first.Headers["X-Kept"].Should().Be("yes", "end-to-end headers still pass");
        first.Headers["Content-Length"].Should().Be("8", "the watchdog frames the body itself");
        if (name != "Content-Length")
        {
            first.Headers.Should().NotContainKey(name);
        }

        second.Body.Should().Be("own answer");
    }

    [Theory(Timeout = 30_000)]
    [InlineData(100)]
    [InlineData(101)]
    [InlineData(103)]
    public async Task An_informational_cgi_status_is_refused_not_sent_as_the_final_response(int status)
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("cgi-head.sh", o => o with { CgiResponse = true });
        await using var client = await RawHttpClient.ConnectAsync(watchdog.Url);

        var first = await ExchangeAsync(client, $@"X-Cgi-Head: Status: {status}\r\n", "X-Cgi-Body: body");
        var second = await ExchangeAsync(client);

        first.Status.Should().Be(500);
        first.Headers["X-Watchdog-Reason"].Should().Be("bad-cgi-response");
        first.Body.Should().Contain($"Status {status} is informational");
        second.Body.Should().Be("own answer");
    }

    [Theory(Timeout = 30_000)]
    [InlineData(204)]
    [InlineData(205)]
    [InlineData(304)]
    public async Task A_bodyless_cgi_status_with_a_body_sends_no_body_and_keeps_the_connection_framed(int status)
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("cgi-head.sh", o => o with { CgiResponse = true });
        await using var client = await RawHttpClient.ConnectAsync(watchdog.Url);

        var first = await ExchangeAsync(client, $@"X-Cgi-Head: Status: {status}\r\nX-Kept: yes\r\n", "X-Cgi-Body: a body that must not be sent");
        var second = await ExchangeAsync(client);

        first.Status.Should().Be(status);
        first.Headers["X-Kept"].Should().Be("yes");
        first.Body.Should().BeEmpty();
        second.Body.Should().Be("own answer", "no stray body bytes are read as the next response");
    }

    private static Task<(int Status, Dictionary<string, string> Headers, string Body)> ExchangeAsync(RawHttpClient client, params string[] headers) =>
        client.ExchangeAsync("GET", "/", headers);
}
