namespace Fwatchdog.Tests.Specs;

/// <summary>mode=http in the real fwatchdog executable: SIGTERM drains calls in flight before it stops the function's process group.</summary>
public sealed class HttpModeLifecycleSpecs
{
    [Fact(Timeout = 90_000)]
    public async Task Sigterm_lets_calls_in_flight_finish_then_stops_the_function_with_sigterm()
    {
        using var upstream = new HttpModeUpstream();
        upstream.Touch("gate");
        var env = upstream.Environment(("healthcheck_interval", "0"), ("kill_grace", "5s"))
            .ToDictionary(pair => pair.Key, pair => pair.Value ?? "");
        env["port"] = "0";
        env["metrics_port"] = "0";
        env["suppress_lock"] = "true";
        env["bind_address"] = "127.0.0.1";
        await using var watchdog = WatchdogProcess.Start(env);
        await watchdog.WaitUntilListeningAsync();
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        (await Processes.EventuallyAsync(async () => (await client.GetAsync(new Uri(watchdog.Url, "/_/ready"))).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30)))
            .Should().BeTrue(watchdog.Output);
        var pid = int.Parse(await client.GetStringAsync(new Uri(watchdog.Url, "/pid")), CultureInfo.InvariantCulture);

        var slow = client.GetAsync(new Uri(watchdog.Url, "/slow"));
        (await Processes.EventuallyAsync(() => Task.FromResult(upstream.Has("slow-started")), TimeSpan.FromSeconds(30))).Should().BeTrue();
        watchdog.Signal(Fwatchdog.Native.Libc.SIGTERM);
        using var response = await slow;
        await watchdog.WaitForExitAsync(TimeSpan.FromSeconds(30));

        response.StatusCode.Should().Be(HttpStatusCode.OK, "the call in flight is drained, not cut");
        (await response.Content.ReadAsStringAsync()).Should().Be("slow done\n");
        upstream.Has("slow-cancelled").Should().BeFalse();
        watchdog.ExitCode.Should().Be(0, watchdog.Output);
        upstream.Has("term").Should().BeTrue("the function gets SIGTERM (and time to exit) once the calls are done");
        upstream.Read("term").Should().Be(pid.ToString(CultureInfo.InvariantCulture));
        (await Processes.EventuallyAsync(() => !Processes.IsAlive(pid), TimeSpan.FromSeconds(10))).Should().BeTrue();
    }
}
