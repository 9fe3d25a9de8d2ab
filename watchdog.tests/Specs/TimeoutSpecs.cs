using Fwatchdog.Configuration;

namespace Fwatchdog.Tests.Specs;

public sealed class TimeoutSpecs : FastTier
{
    [Fact(Timeout = 30_000)]
    public async Task Process_exceeding_exec_timeout_is_killed_with_its_grandchildren_and_returns_504()
    {
        using var pids = new PidDirectory();
        await using var watchdog = await TestWatchdog.StartScriptAsync("record-pids.sh", o => o with { ExecTimeout = TimeSpan.FromSeconds(1) });
        var clock = Stopwatch.StartNew();

        using var response = await watchdog.Client.SendAsync(pids.Request(HttpMethod.Get, watchdog.Url));

        response.StatusCode.Should().Be(HttpStatusCode.GatewayTimeout);
        response.Headers.GetValues("X-Watchdog-Reason").Should().Equal("exec-timeout");
        (await response.Content.ReadAsStringAsync()).Should().Contain("exec_timeout (1s) exceeded");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(15));
        await AssertGoneAsync(await pids.WaitForPidAsync("main"), await pids.WaitForPidAsync("grandchild"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Processes_that_ignore_SIGTERM_are_killed_after_the_grace_period()
    {
        using var pids = new PidDirectory();
        await using var watchdog = await TestWatchdog.StartScriptAsync("ignore-term.sh", o => o with { ExecTimeout = TimeSpan.FromSeconds(1) });

        using var response = await watchdog.Client.SendAsync(pids.Request(HttpMethod.Get, watchdog.Url));

        response.StatusCode.Should().Be(HttpStatusCode.GatewayTimeout);
        await AssertGoneAsync(await pids.WaitForPidAsync("main"), await pids.WaitForPidAsync("grandchild"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Client_disconnect_kills_the_process_group()
    {
        using var pids = new PidDirectory();
        await using var watchdog = await TestWatchdog.StartScriptAsync("record-pids.sh");
        await using (var client = await RawHttpClient.ConnectAsync(watchdog.Url))
        {
            await client.SendHeadAsync("GET", "/", 0, $"X-Pid-Dir: {pids.Path}");
            await pids.WaitForPidAsync("grandchild");
        }

        await AssertGoneAsync(await pids.WaitForPidAsync("main"), await pids.WaitForPidAsync("grandchild"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Background_processes_do_not_outlive_the_call_or_hold_its_response()
    {
        using var pids = new PidDirectory();
        await using var watchdog = await TestWatchdog.StartScriptAsync("background-holds-stdout.sh");
        var clock = Stopwatch.StartNew();

        using var response = await watchdog.Client.SendAsync(pids.Request(HttpMethod.Get, watchdog.Url));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("finished\n");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), "a sleeping background process must not hold the response for 300 s");
        await AssertGoneAsync(await pids.WaitForPidAsync("grandchild"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Body_not_received_within_read_timeout_gets_408_and_the_process_is_killed()
    {
        using var pids = new PidDirectory();
        await using var watchdog = await TestWatchdog.StartScriptAsync("record-pids.sh", o => o with { ReadTimeout = TimeSpan.FromSeconds(1) });
        await using var client = await RawHttpClient.ConnectAsync(watchdog.Url);

        await client.SendHeadAsync("POST", "/", 1000, $"X-Pid-Dir: {pids.Path}");
        await client.Stream.WriteAsync("only a little"u8.ToArray());
        var (status, headers) = await client.ReadHeadAsync();

        status.Should().Be(408);
        headers["X-Watchdog-Reason"].Should().Be("read-timeout");
        await AssertGoneAsync(await pids.WaitForPidAsync("main"), await pids.WaitForPidAsync("grandchild"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Response_not_written_within_write_timeout_is_aborted_and_the_process_killed()
    {
        using var pids = new PidDirectory();
        await using var watchdog = await TestWatchdog.StartScriptAsync("record-pids.sh", o => o with { WriteTimeout = TimeSpan.FromSeconds(1) });

        var call = () => watchdog.Client.SendAsync(pids.Request(HttpMethod.Get, watchdog.Url));

        await call.Should().ThrowAsync<HttpRequestException>();
        await AssertGoneAsync(await pids.WaitForPidAsync("main"), await pids.WaitForPidAsync("grandchild"));
    }

    [Theory(Timeout = 60_000)]
    [InlineData("native")]
    [InlineData("cliwrap")]
    public async Task A_daemon_that_keeps_stdout_open_does_not_hang_the_call(string runner)
    {
        using var first = new PidDirectory();
        using var second = new PidDirectory();
        await using var watchdog = await TestWatchdog.StartScriptAsync("daemon-holds-stdout.sh",
            o => o with { Runner = Enum.Parse<RunnerKind>(runner, ignoreCase: true), WriteTimeout = TimeSpan.FromSeconds(3), MaxInflight = 2 });

        var calls = new[] { first, second }.Select(pids => CallAsync(watchdog, pids)).ToArray();
        var ended = Task.WhenAll(calls);
        var finished = await Task.WhenAny(ended, Task.Delay(TimeSpan.FromSeconds(30)));

        finished.Should().Be(ended, "every wait of a call is bounded by kill_grace and write_timeout, even for a process that left the group");
        foreach (var (status, body) in await ended)
        {
            status.Should().Be(HttpStatusCode.OK);
            body.Should().Be("finished\n");
        }

        (await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/_/ready"))).StatusCode.Should().Be(HttpStatusCode.OK, "both slots are free again");
        await AssertGoneAsync(await first.WaitForPidAsync("daemon"), await second.WaitForPidAsync("daemon"));
    }

    private static async Task<(HttpStatusCode Status, string Body)> CallAsync(TestWatchdog watchdog, PidDirectory pids)
    {
        using var response = await watchdog.Client.SendAsync(pids.Request(HttpMethod.Get, watchdog.Url));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task AssertGoneAsync(params int[] processIds)
    {
        foreach (var pid in processIds)
        {
            (await Processes.EventuallyAsync(() => !Processes.IsAlive(pid), TimeSpan.FromSeconds(10)))
                .Should().BeTrue($"process {pid} started by the call must not survive it");
        }
    }
}
