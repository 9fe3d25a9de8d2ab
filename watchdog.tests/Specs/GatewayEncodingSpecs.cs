namespace Fwatchdog.Tests.Specs;

/// <summary>
/// Header values are bytes: UTF-8 in a request or response header passes
/// through the gateway byte for byte, sync and async (store, replay, result, callback), as it
/// does through the OpenFaaS gateway.
/// </summary>
public sealed class GatewayEncodingSpecs : FastTier
{
    private const string Utf8Text = "café ☕ Grüße";
    private static readonly string AsBytes = Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(Utf8Text));

    [Fact(Timeout = 30_000)]
    public async Task Utf8_header_values_cross_a_sync_call_byte_for_byte_both_ways()
    {
        await using var upstream = ScriptedUpstream.Start(async exchange =>
        {
            await exchange.ReadBodyAsync();
            await exchange.WriteAsync($"HTTP/1.1 200 OK\r\nX-Back: {AsBytes}\r\nContent-Type: text/plain; name=\"{AsBytes}\"\r\nContent-Length: 2\r\n\r\nok");
        });
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("fn", upstream.Url)));
        using var client = Utf8Client(gateway.Url);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/function/fn");
        request.Headers.TryAddWithoutValidation("X-Note", Utf8Text);
        using var response = await client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        upstream.Requests.Single().Header("X-Note").Should().Be(AsBytes, "the function gets the caller's bytes");
        response.Headers.GetValues("X-Back").Single().Should().Be(Utf8Text, "the caller gets the function's bytes");
        response.Content.Headers.GetValues("Content-Type").Single().Should().Be($"text/plain; name=\"{Utf8Text}\"");
    }

    [Fact(Timeout = 60_000)]
    public async Task Utf8_header_values_survive_the_async_store_the_replay_the_result_and_the_callback()
    {
        await using var function = ScriptedUpstream.Start(async exchange =>
        {
            await exchange.ReadBodyAsync();
            await exchange.WriteAsync($"HTTP/1.1 200 OK\r\nContent-Type: text/plain; name=\"{AsBytes}\"\r\nContent-Length: 2\r\n\r\nok");
        });
        await using var receiver = ScriptedUpstream.Start(async exchange =>
        {
            await exchange.ReadBodyAsync();
            await exchange.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        });
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("fn", function.Url)),
            new Dictionary<string, string> { ["callback_allowed_hosts"] = "127.0.0.1" });
        using var client = Utf8Client(gateway.Url);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/async-function/fn") { Content = new StringContent("x") };
        request.Headers.TryAddWithoutValidation("X-Note", Utf8Text);
        request.Headers.TryAddWithoutValidation("X-Callback-Url", receiver.Url + "done");
        using var accepted = await client.SendAsync(request);
        accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var callId = TestGateway.Remember(accepted);

        var status = await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(30), "succeeded", "failed", "dead");
        status.GetProperty("state").GetString().Should().Be("succeeded", status.ToString());
        function.Requests.Single().Header("X-Note").Should().Be(AsBytes, "the replayed call carries the caller's bytes");
        using var result = await client.GetAsync(TestGateway.StatusOf(callId) + "/result");
        result.Content.Headers.GetValues("Content-Type").Single().Should().Be($"text/plain; name=\"{Utf8Text}\"");
        await gateway.WaitForCallbackAsync(callId, TimeSpan.FromSeconds(30), "delivered");
        receiver.Requests.Single().Header("Content-Type").Should().Be($"text/plain; name=\"{AsBytes}\"", "the callback carries the function's bytes");
    }

    private static HttpClient Utf8Client(Uri gateway) => new(new SocketsHttpHandler
    {
        RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8,
        ResponseHeaderEncodingSelector = (_, _) => Encoding.UTF8,
    })
    { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(30) };
}
