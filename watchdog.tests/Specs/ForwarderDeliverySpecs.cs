namespace Fwatchdog.Tests.Specs;

/// <summary>
/// When the forwarder's answer reaches the caller: an answer read whole goes out with
/// its end at once, even while the caller is still sending its body, and a streamed answer flows
/// piece by piece.
/// </summary>
public sealed class ForwarderDeliverySpecs : FastTier
{
    [Fact(Timeout = 60_000)]
    public async Task An_answer_given_before_the_request_body_ends_reaches_the_caller_whole_at_once()
    {
        // The upstream refuses the upload without reading it, as an auth check or a size limit does.
        await using var upstream = ScriptedUpstream.Start(exchange =>
            exchange.WriteAsync("HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nnope!\r\n0\r\n\r\n"));
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("auth", upstream.Url)));
        await using var caller = await RawHttpClient.ConnectAsync(gateway.Url);

        // One chunk of a chunked upload, and the rest never comes while the caller waits.
        await caller.SendHeadAsync("POST", "/function/auth", null);
        await caller.Stream.WriteAsync(Encoding.ASCII.GetBytes("5\r\nhello\r\n"));
        await caller.Stream.FlushAsync();

        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var (status, headers) = await caller.ReadHeadAsync().WaitAsync(wait.Token);
        var body = new MemoryStream();
        await caller.ReadBodyAsync(headers, async bytes => await body.WriteAsync(bytes)).WaitAsync(wait.Token);

        status.Should().Be(401);
        Encoding.ASCII.GetString(body.ToArray()).Should().Be("nope!", "the end of the answer must not wait for the end of the caller's body");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_chunked_answer_streams_each_piece_before_the_upstream_sends_the_next()
    {
        var next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = ScriptedUpstream.Start(async exchange =>
        {
            await exchange.ReadBodyAsync();
            await exchange.WriteAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst\n\r\n");
            await next.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await exchange.WriteAsync("7\r\nsecond\n\r\n0\r\n\r\n");
        });
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("stream", upstream.Url)));
        await using var caller = await RawHttpClient.ConnectAsync(gateway.Url);

        await caller.SendHeadAsync("GET", "/function/stream", 0);
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var (status, headers) = await caller.ReadHeadAsync().WaitAsync(wait.Token);
        var pieces = new List<string>();
        await caller.ReadBodyAsync(headers, bytes =>
        {
            pieces.Add(Encoding.ASCII.GetString(bytes.Span));

            // The second piece is only written once the first has reached the caller.
            next.TrySetResult();
            return Task.CompletedTask;
        }).WaitAsync(wait.Token);

        status.Should().Be(200);
        string.Concat(pieces).Should().Be("first\nsecond\n");
    }
}
