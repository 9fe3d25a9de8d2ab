namespace Fwatchdog.Tests.Specs;

public sealed class LimitSpecs : FastTier
{
    [Fact(Timeout = 30_000)]
    public async Task Requests_past_max_inflight_get_429_with_Retry_After()
    {
        await using var watchdog = await TestWatchdog.StartAsync("sleep 2", o => o with { MaxInflight = 1 });
        var first = watchdog.Client.GetAsync(watchdog.Url);
        await Processes.EventuallyAsync(() => false, TimeSpan.FromMilliseconds(500));

        using var second = await watchdog.Client.GetAsync(watchdog.Url);

        second.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        second.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(1));
        (await second.Content.ReadAsStringAsync()).Should().Contain("Max concurrent requests: 1");
        (await first).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact(Timeout = 60_000)]
    public async Task Slots_are_released_whatever_failed()
    {
        await using var watchdog = await TestWatchdog.StartAsync("sh -c 'exit 1'", o => o with { MaxInflight = 1, ExecTimeout = TimeSpan.FromSeconds(5) });
        await using var timingOut = await TestWatchdog.StartAsync("sleep 10", o => o with { MaxInflight = 1, ExecTimeout = TimeSpan.FromMilliseconds(200) });
        // A program that is there at start (the watchdog checks) and gone by the calls: every spawn fails.
        var gone = Path.Combine(Directory.CreateTempSubdirectory("fwatchdog-gone-").FullName, "fn");
        await File.WriteAllTextAsync(gone, "#!/bin/sh\n");
        File.SetUnixFileMode(gone, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        await using var missing = await TestWatchdog.StartAsync(gone, o => o with { MaxInflight = 1 });
        File.Delete(gone);

        foreach (var target in new[] { watchdog, timingOut, missing })
        {
            for (var i = 0; i < 5; i++)
            {
                using var response = await target.Client.GetAsync(target.Url);
                response.StatusCode.Should().NotBe(HttpStatusCode.TooManyRequests, "every earlier call released its slot");
                response.IsSuccessStatusCode.Should().BeFalse("each of these calls fails");
            }
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Body_larger_than_max_request_bytes_gets_413_before_the_process_starts()
    {
        using var pids = new PidDirectory();
        await using var watchdog = await TestWatchdog.StartScriptAsync("record-pids.sh", o => o with { MaxRequestBytes = 1000 });

        using var response = await watchdog.Client.SendAsync(pids.Request(HttpMethod.Post, watchdog.Url, new ByteArrayContent(new byte[1001])));

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await response.Content.ReadAsStringAsync()).Should().Contain("max_request_bytes (1000 bytes)");
        File.Exists(Path.Combine(pids.Path, "main")).Should().BeFalse("the process must not start");
    }

    [Fact(Timeout = 30_000)]
    public async Task Chunked_body_crossing_max_request_bytes_is_stopped_and_gets_413()
    {
        await using var watchdog = await TestWatchdog.StartAsync("cat", o => o with { MaxRequestBytes = 100_000, ResponseBufferBytes = 1024 * 1024 });
        using var request = new HttpRequestMessage(HttpMethod.Post, watchdog.Url) { Content = new StreamContent(new MemoryStream(new byte[500_000])) };
        request.Headers.TransferEncodingChunked = true;

        using var response = await watchdog.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        response.Headers.GetValues("X-Watchdog-Reason").Should().Equal("body-too-large");
    }

    [Fact(Timeout = 30_000)]
    public async Task Body_at_the_limit_is_accepted()
    {
        await using var watchdog = await TestWatchdog.StartAsync("wc -c", o => o with { MaxRequestBytes = 1000 });

        using var response = await watchdog.Client.PostAsync(watchdog.Url, new ByteArrayContent(new byte[1000]));

        (await response.Content.ReadAsStringAsync()).Trim().Should().Be("1000");
    }
}
