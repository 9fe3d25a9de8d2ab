using Fwatchdog.Configuration;

namespace Fwatchdog.Tests.Specs;

/// <summary>The CliWrap runner (runner=cliwrap) keeps the same contract as the native default.</summary>
public sealed class CliWrapRunnerSpecs : FastTier
{
    private static WatchdogOptionsEdit CliWrap(WatchdogOptionsEdit? more = null) => o => (more ?? (x => x))(o with { Runner = RunnerKind.CliWrap });

    [Fact(Timeout = 30_000)]
    public async Task Body_streams_through_the_process()
    {
        await using var watchdog = await TestWatchdog.StartAsync("cat", CliWrap().Invoke);
        var body = new byte[2 * 1024 * 1024 + 3];
        Random.Shared.NextBytes(body);

        using var response = await watchdog.Client.PostAsync(watchdog.Url, new ByteArrayContent(body));

        (await response.Content.ReadAsByteArrayAsync()).Should().Equal(body);
    }

    [Fact(Timeout = 30_000)]
    public async Task Non_zero_exit_returns_500()
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("exit-code.sh", CliWrap().Invoke);

        using var response = await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/?5"));

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await response.Content.ReadAsStringAsync()).Should().Contain("exited with code 5");
    }

    [Fact(Timeout = 30_000)]
    public async Task Exec_timeout_kills_the_whole_group_including_SIGTERM_ignorers()
    {
        using var pids = new PidDirectory();
        await using var watchdog = await TestWatchdog.StartScriptAsync("ignore-term.sh", CliWrap(o => o with { ExecTimeout = TimeSpan.FromSeconds(1) }).Invoke);

        using var response = await watchdog.Client.SendAsync(pids.Request(HttpMethod.Get, watchdog.Url));

        response.StatusCode.Should().Be(HttpStatusCode.GatewayTimeout);
        foreach (var pid in new[] { await pids.WaitForPidAsync("main"), await pids.WaitForPidAsync("grandchild") })
        {
            (await Processes.EventuallyAsync(() => !Processes.IsAlive(pid), TimeSpan.FromSeconds(10))).Should().BeTrue();
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Background_processes_do_not_hold_the_response()
    {
        using var pids = new PidDirectory();
        await using var watchdog = await TestWatchdog.StartScriptAsync("background-holds-stdout.sh", CliWrap().Invoke);

        using var response = await watchdog.Client.SendAsync(pids.Request(HttpMethod.Get, watchdog.Url));

        (await response.Content.ReadAsStringAsync()).Should().Be("finished\n");
        var grandchild = await pids.WaitForPidAsync("grandchild");
        (await Processes.EventuallyAsync(() => !Processes.IsAlive(grandchild), TimeSpan.FromSeconds(10))).Should().BeTrue();
    }
}

/// <summary>Changes test options.</summary>
internal delegate Fwatchdog.Configuration.WatchdogOptions WatchdogOptionsEdit(Fwatchdog.Configuration.WatchdogOptions options);
