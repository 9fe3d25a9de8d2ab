namespace Fwatchdog.Tests.Specs;

/// <summary>
/// When the forwarder reuses a pooled connection and when it sends a request again: a stale
/// keep-alive connection is noticed before the request goes out, and a request that may have
/// reached the upstream is never sent twice.
/// </summary>
public sealed class ForwarderReuseSpecs : FastTier
{
    [Fact(Timeout = 60_000)]
    public async Task An_upstream_closing_idle_connections_after_50ms_never_fails_large_or_chunked_posts()
    {
        await using var upstream = ScriptedUpstream.Start(async exchange =>
        {
            await exchange.ReadBodyAsync();
            var body = $"own:{exchange.Request.Header("X-Marker")}:{exchange.Body.Length}";
            await exchange.WriteAsync($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n{body}");
        }, idleClose: TimeSpan.FromMilliseconds(50));
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("evil", upstream.Url)));
        var payload = new byte[100 * 1024];

        for (var i = 0; i < 6; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/function/evil") { Content = new ByteArrayContent(payload) };
            request.Headers.TryAddWithoutValidation("X-Marker", $"p{i}");
            request.Headers.TransferEncodingChunked = i % 2 == 1;
            using var response = await gateway.Client.SendAsync(request);

            ((int)response.StatusCode).Should().Be(200, $"call {i} ({(i % 2 == 1 ? "chunked" : "100 KB")}) must not land on the connection the upstream closed");
            (await response.Content.ReadAsStringAsync()).Should().Be($"own:p{i}:{payload.Length}");

            // On a busy machine the upstream's 50 ms timer can fire late; the next call must come
            // after the close (a close racing with a request that has gone out is a 502 by design).
            (await Processes.EventuallyAsync(() => upstream.ClosedConnections == upstream.Connections, TimeSpan.FromSeconds(10)))
                .Should().BeTrue("the upstream closes each idle connection after 50 ms");
        }

        upstream.Requests.Should().HaveCount(6, "no call was sent twice");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_post_that_reached_the_upstream_is_not_sent_again_when_the_reused_connection_then_fails()
    {
        await using var upstream = ScriptedUpstream.Start(async exchange =>
        {
            await exchange.ReadBodyAsync();
            switch (exchange.Request.Header("X-Evil"))
            {
                case "close":
                    exchange.Close();
                    break;
                case "garbage":
                    await exchange.WriteAsync("this is not HTTP\r\n\r\n");
                    break;
                case "half-head":
                    await exchange.WriteAsync("HTTP/1.1 200 OK\r\nContent-Le");
                    exchange.Close();
                    break;
                default:
                    await exchange.WriteAsync(ScriptedUpstream.OwnAnswer(exchange.Request));
                    break;
            }
        });
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("evil", upstream.Url)));

        foreach (var (evil, size, status, reason) in new[]
        {
            ("close", 100, 502, "function_unreachable"),
            ("close", 100 * 1024, 502, "function_unreachable"),
            ("garbage", 100, 502, "bad_upstream_response"),
            ("half-head", 100, 502, "bad_upstream_response"),
            ("half-head", 100 * 1024, 502, "bad_upstream_response"),
        })
        {
            var marker = $"{evil}-{size}";
            (await Post(gateway, "warm-" + marker, null, 10)).Should().Be((200, null), "the pool holds a used connection");
            (await Post(gateway, marker, evil, size)).Should().Be((status, reason), marker);
            upstream.Requests.Count(r => r.Header("X-Marker") == marker).Should().Be(1, $"{marker}: the upstream saw the request, so it must not see it again");
        }
    }

    private static async Task<(int Status, string? Reason)> Post(TestGateway gateway, string marker, string? evil, int size)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/function/evil") { Content = new ByteArrayContent(new byte[size]) };
        request.Headers.TryAddWithoutValidation("X-Marker", marker);
        if (evil is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Evil", evil);
        }

        using var response = await gateway.Client.SendAsync(request);
        return ((int)response.StatusCode, response.Headers.TryGetValues("X-Gateway-Reason", out var values) ? values.Single() : null);
    }
}
