namespace Fwatchdog.Tests.Specs;

/// <summary>
/// UTF-8 bytes in header values pass through the watchdog byte for byte, as with the classic
/// watchdog (Go's net/http): into the function's environment and JSON envelope, and back out in
/// response headers. Control characters are still refused.
/// </summary>
public sealed class HeaderEncodingSpecs : FastTier
{
    private const string Utf8Text = "café ☕ Grüße";

    [Fact(Timeout = 30_000)]
    public async Task A_utf8_request_header_reaches_the_function_as_utf8()
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("print-env.sh");

        var (status, _, body) = await ExchangeAsync(watchdog, "GET", "/", $"X-Name: {Utf8Text}");

        status.Should().Be(200);
        body.Should().Contain($"Http_X_Name={Utf8Text}\n");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_utf8_call_id_is_echoed_byte_for_byte_and_given_to_the_function()
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("print-env.sh");

        var (status, headers, body) = await ExchangeAsync(watchdog, "GET", "/", $"X-Call-Id: call-{Utf8Text}");

        status.Should().Be(200);
        headers["X-Call-Id"].Should().Be($"call-{Utf8Text}");
        body.Should().Contain($"Http_X_Call_Id=call-{Utf8Text}\n");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_utf8_request_content_type_is_copied_to_the_response_unchanged()
    {
        await using var watchdog = await TestWatchdog.StartAsync("cat");

        var (status, headers, _) = await ExchangeAsync(watchdog, "POST", "/", $"Content-Type: text/plain; title=\"{Utf8Text}\"");

        status.Should().Be(200);
        headers["Content-Type"].Should().Be($"text/plain; title=\"{Utf8Text}\"");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_utf8_cgi_header_value_reaches_the_client_unchanged()
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("cgi-head.sh", o => o with { CgiResponse = true });

        var (status, headers, body) = await ExchangeAsync(watchdog, "GET", "/", $@"X-Cgi-Head: X-Title: {Utf8Text}\r\n", "X-Cgi-Body: ok");

        status.Should().Be(200);
        headers["X-Title"].Should().Be(Utf8Text);
        body.Should().Be("ok");
    }

    [Fact(Timeout = 30_000)]
    public async Task Marshal_request_carries_utf8_header_values_as_json_strings()
    {
        await using var watchdog = await TestWatchdog.StartAsync("cat", o => o with { MarshalRequest = true });

        var (status, _, body) = await ExchangeAsync(watchdog, "POST", "/", $"X-Name: {Utf8Text}");

        status.Should().Be(200);
        using var json = JsonDocument.Parse(body);
        json.RootElement.GetProperty("header").GetProperty("X-Name")[0].GetString().Should().Be(Utf8Text);
    }

    [Fact(Timeout = 30_000)]
    public async Task Bytes_that_are_not_utf8_are_accepted_and_echoed_unchanged()
    {
        await using var watchdog = await TestWatchdog.StartAsync("cat");
        await using var client = await RawHttpClient.ConnectAsync(watchdog.Url);
        byte[] callId = [.. "X-Call-Id: caf"u8, 0xE9, .. "\r\n"u8];

        await client.Stream.WriteAsync((byte[])[.. "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"u8, .. callId, .. "\r\n"u8]);
        var response = new MemoryStream();
        await client.Stream.CopyToAsync(response);

        var text = response.ToArray();
        text.AsSpan().StartsWith("HTTP/1.1 200 "u8).Should().BeTrue(System.Text.Encoding.Latin1.GetString(text));
        text.AsSpan().IndexOf(callId).Should().BePositive("the Latin-1 byte 0xE9 is echoed as it came");
    }

    [Fact(Timeout = 30_000)]
    public async Task Control_characters_in_a_header_value_are_still_refused()
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("print-env.sh");

        var (status, _, _) = await ExchangeAsync(watchdog, "GET", "/", "X-Name: a\u0001b");

        status.Should().Be(400);
    }

    [Fact(Timeout = 30_000)]
    public async Task Http_Path_is_the_decoded_path()
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("print-env.sh");

        var (status, _, body) = await ExchangeAsync(watchdog, "GET", "/my%20doc/caf%C3%A9?q=caf%C3%A9");

        status.Should().Be(200);
        body.Should().Contain("Http_Path=/my doc/café\n").And.Contain("Http_Query=q=caf%C3%A9\n", "the query stays raw, as in the classic watchdog");
    }

    private static async Task<(int Status, Dictionary<string, string> Headers, string Body)> ExchangeAsync(TestWatchdog watchdog, string method, string path, params string[] headers)
    {
        await using var client = await RawHttpClient.ConnectAsync(watchdog.Url);
        return await client.ExchangeAsync(method, path, headers);
    }
}
