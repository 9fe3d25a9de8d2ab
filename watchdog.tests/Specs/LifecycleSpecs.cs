using Fwatchdog.Native;

namespace Fwatchdog.Tests.Specs;

public sealed class LifecycleSpecs
{
    [Fact(Timeout = 60_000)]
    public async Task Invalid_configuration_exits_2_listing_every_bad_variable()
    {
        var (exitCode, output) = await WatchdogProcess.RunAsync(new Dictionary<string, string>
        {
            ["read_timeout"] = "soon",
            ["max_inflight"] = "-1",
        });

        exitCode.Should().Be(2);
        output.Should().Contain("invalid configuration (3 problems)");
        output.Should().Contain("fprocess is not set");
        output.Should().Contain("read_timeout=\"soon\" (env read_timeout)");
        output.Should().Contain("max_inflight=\"-1\"");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_bad_mode_exits_2_naming_the_variable_and_value()
    {
        var (exitCode, output) = await WatchdogProcess.RunAsync(new Dictionary<string, string> { ["fprocess"] = "cat", ["mode"] = "htp" });

        exitCode.Should().Be(2);
        output.Should().Contain("mode=\"htp\"");
    }

    [Fact(Timeout = 60_000)]
    public async Task Flags_override_the_environment_and_are_validated_too()
    {
        var (exitCode, output) = await WatchdogProcess.RunAsync(new Dictionary<string, string> { ["fprocess"] = "cat" }, "--exec-timeout", "later");

        exitCode.Should().Be(2);
        output.Should().Contain("exec_timeout=\"later\" (--exec_timeout)");
    }

    [Fact(Timeout = 60_000)]
    public async Task Unknown_flags_exit_2()
    {
        var (exitCode, output) = await WatchdogProcess.RunAsync(new Dictionary<string, string> { ["fprocess"] = "cat" }, "--no-such-flag");

        exitCode.Should().Be(2);
        output.Should().Contain("--no-such-flag");
    }

    [Fact(Timeout = 60_000)]
    public async Task Help_lists_every_setting_and_version_prints_one()
    {
        var (helpExit, help) = await WatchdogProcess.RunAsync(new Dictionary<string, string>(), "--help");
        var (versionExit, version) = await WatchdogProcess.RunAsync(new Dictionary<string, string>(), "--version");

        helpExit.Should().Be(0);
        foreach (var setting in Fwatchdog.Configuration.WatchdogSettings.All)
        {
            help.Should().Contain("--" + setting.Name);
        }

        help.Should().Contain("run-healthcheck");
        versionExit.Should().Be(0);
        version.Trim().Should().MatchRegex(@"^\d+\.\d+\.\d+");
    }

    [Fact(Timeout = 60_000)]
    public async Task Sigterm_turns_health_503_keeps_serving_for_the_interval_then_drains_and_exits_0()
    {
        var tmp = Directory.CreateTempSubdirectory("fwatchdog-tmp-").FullName;
        await using var watchdog = WatchdogProcess.Start(new Dictionary<string, string>
        {
            ["fprocess"] = "sleep 1",
            ["port"] = "0",
            ["bind_address"] = "127.0.0.1",
            ["metrics_port"] = "0",
            ["healthcheck_interval"] = "20s",
            ["write_timeout"] = "10s",
            ["TMPDIR"] = tmp,
        });
        await watchdog.WaitUntilListeningAsync();
        using var client = new HttpClient();
        File.Exists(Path.Combine(tmp, ".lock")).Should().BeTrue("the lock file is written once serving");
        (await client.GetAsync(new Uri(watchdog.Url, "/_/health"))).StatusCode.Should().Be(HttpStatusCode.OK);
        var inflight = client.GetAsync(watchdog.Url);
        (await Processes.EventuallyAsync(() => Processes.ChildrenOf(watchdog.Pid).Count > 0, TimeSpan.FromSeconds(10))).Should().BeTrue("the call runs its process");
        var clock = Stopwatch.StartNew();

        watchdog.Signal(Libc.SIGTERM);
        (await Processes.EventuallyAsync(() => watchdog.Output.Contains("SIGTERM: health is 503", StringComparison.Ordinal), TimeSpan.FromSeconds(10))).Should().BeTrue(watchdog.Output);

        (await client.GetAsync(new Uri(watchdog.Url, "/_/health"))).StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        File.Exists(Path.Combine(tmp, ".lock")).Should().BeFalse("the lock file goes at SIGTERM");
        var lastCall = clock.Elapsed;
        (await client.GetAsync(watchdog.Url)).StatusCode.Should().Be(HttpStatusCode.OK, "calls are still served during healthcheck_interval");
        (await inflight).StatusCode.Should().Be(HttpStatusCode.OK, "the call in flight finishes");
        await watchdog.WaitForExitAsync(TimeSpan.FromSeconds(20));
        watchdog.ExitCode.Should().Be(0);
        clock.Elapsed.Should().BeGreaterThan(lastCall + TimeSpan.FromSeconds(1), "the window lasts until no call has arrived for 1 s");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(15), "once quiet, it does not sit out the whole 20 s healthcheck_interval");
        watchdog.Output.Should().Contain("SIGTERM").And.Contain("draining");
    }

    [Fact(Timeout = 60_000)]
    public async Task An_idle_watchdog_with_only_fprocess_set_exits_well_inside_dockers_10_s_grace()
    {
        // The classic python3 template sets only fprocess: healthcheck_interval = write_timeout = 30 s.
        var tmp = Directory.CreateTempSubdirectory("fwatchdog-tmp-").FullName;
        await using var watchdog = WatchdogProcess.Start(new Dictionary<string, string>
        {
            ["fprocess"] = "cat",
            ["port"] = "0",
            ["metrics_port"] = "0",
            ["TMPDIR"] = tmp,
        });
        await watchdog.WaitUntilListeningAsync();
        using var client = new HttpClient();
        (await client.PostAsync(watchdog.Url, new StringContent("x"))).StatusCode.Should().Be(HttpStatusCode.OK);
        var clock = Stopwatch.StartNew();

        watchdog.Signal(Libc.SIGTERM);
        await watchdog.WaitForExitAsync(TimeSpan.FromSeconds(20));

        watchdog.ExitCode.Should().Be(0);
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "docker stop sends SIGKILL 10 s after SIGTERM");
    }

    [Fact(Timeout = 60_000)]
    public async Task Sigterm_to_one_watchdog_leaves_the_health_of_another_on_the_same_host_alone()
    {
        var tmp = Directory.CreateTempSubdirectory("fwatchdog-tmp-").FullName;
        await using var first = StartWithLockFile(tmp, "first.lock");
        await using var second = StartWithLockFile(tmp, "second.lock");
        await first.WaitUntilListeningAsync();
        await second.WaitUntilListeningAsync();
        using var client = new HttpClient();
        File.Exists(Path.Combine(tmp, "first.lock")).Should().BeTrue();
        File.Exists(Path.Combine(tmp, "second.lock")).Should().BeTrue();

        first.Signal(Libc.SIGTERM);
        await first.WaitForExitAsync(TimeSpan.FromSeconds(20));

        first.ExitCode.Should().Be(0);
        File.Exists(Path.Combine(tmp, "first.lock")).Should().BeFalse("the stopped watchdog removed its own lock file");
        File.Exists(Path.Combine(tmp, "second.lock")).Should().BeTrue("and only its own");
        (await client.GetAsync(new Uri(second.Url, "/_/health"))).StatusCode.Should().Be(HttpStatusCode.OK);
        File.Exists(Path.Combine(tmp, ".lock")).Should().BeFalse("with lock_file set, $TMPDIR/.lock is not used");
    }

    private static WatchdogProcess StartWithLockFile(string tmp, string name) => WatchdogProcess.Start(new Dictionary<string, string>
    {
        ["fprocess"] = "cat",
        ["port"] = "0",
        ["bind_address"] = "127.0.0.1",
        ["metrics_port"] = "0",
        ["healthcheck_interval"] = "0",
        ["TMPDIR"] = tmp,
        ["lock_file"] = Path.Combine(tmp, name),
    });

    [Fact(Timeout = 60_000)]
    public async Task A_missing_temp_folder_is_made_as_a_systems_own_lock_file_or_not_and_a_lock_file_that_cannot_be_written_is_one_line()
    {
        // An image FROM scratch has no /tmp: the watchdog makes its temp folder (mode 1777, as /tmp).
        var root = Directory.CreateTempSubdirectory("fwatchdog-scratch-").FullName;
        var tmp = Path.Combine(root, "tmp");
        await using var watchdog = WatchdogProcess.Start(new Dictionary<string, string>
        {
            ["fprocess"] = "cat",
            ["port"] = "0",
            ["bind_address"] = "127.0.0.1",
            ["metrics_port"] = "0",
            ["TMPDIR"] = tmp,
        });
        await watchdog.WaitUntilListeningAsync();
        using var client = new HttpClient();

        (await client.GetAsync(new Uri(watchdog.Url, "/_/health"))).StatusCode.Should().Be(HttpStatusCode.OK);
        File.Exists(Path.Combine(tmp, ".lock")).Should().BeTrue();
        File.GetUnixFileMode(tmp).Should().Be((UnixFileMode)Convert.ToInt32("1777", 8));

        // The spool and buffer_http need it too, lock file or not.
        var unlocked = Path.Combine(root, "tmp-unlocked");
        await using (var suppressed = WatchdogProcess.Start(new Dictionary<string, string>
        {
            ["fprocess"] = "cat",
            ["port"] = "0",
            ["bind_address"] = "127.0.0.1",
            ["metrics_port"] = "0",
            ["suppress_lock"] = "true",
            ["TMPDIR"] = unlocked,
        }))
        {
            await suppressed.WaitUntilListeningAsync();
            File.GetUnixFileMode(unlocked).Should().Be((UnixFileMode)Convert.ToInt32("1777", 8));
        }

        // Any other folder is the user's to make: a lock file that cannot be written stops the start.
        var elsewhere = Path.Combine(root, "missing", ".lock");
        var (exit, output) = await WatchdogProcess.RunAsync(new Dictionary<string, string>
        {
            ["fprocess"] = "cat",
            ["port"] = "0",
            ["bind_address"] = "127.0.0.1",
            ["metrics_port"] = "0",
            ["lock_file"] = elsewhere,
        });

        exit.Should().Be(2, output);
        output.Should().Contain($"fwatchdog: cannot start: lock_file={elsewhere}: cannot be written (a folder on the way to it does not exist, or is a file)")
            .And.NotContain("   at ", "a start-up problem the user can fix has no stack trace");
    }

    [Fact(Timeout = 60_000)]
    public async Task Run_healthcheck_exits_0_when_healthy_and_1_when_nothing_listens()
    {
        using var closed = new ClosedPort();
        var env = new Dictionary<string, string> { ["fprocess"] = "cat", ["port"] = closed.Text, ["metrics_port"] = "0", ["suppress_lock"] = "true", ["bind_address"] = "127.0.0.1" };
        var (downExit, downOutput) = await WatchdogProcess.RunAsync(env, "--run-healthcheck");

        await using var watchdog = WatchdogProcess.Start(new Dictionary<string, string>(env) { ["port"] = "0" });
        await watchdog.WaitUntilListeningAsync();
        env["port"] = watchdog.Url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (upExit, _) = await WatchdogProcess.RunAsync(env, "--run-healthcheck");

        upExit.Should().Be(0, "suppress_lock must not make health fail");
        downExit.Should().Be(1);
        downOutput.Should().Contain("unhealthy");
    }

    // As PID 1 every orphan is re-parented to the watchdog, and ChildReaper reaps them (the
    // runtime reaps only children of its Process class). The orphans here escaped the group kill
    // and wait for a file, so the spec sees them re-parented before it lets them exit.
    [RootFact("unshare --pid makes the watchdog PID 1 of a new PID namespace", Timeout = 60_000)]
    public async Task As_pid_1_orphaned_grandchildren_are_reaped()
    {
        var folder = Directory.CreateTempSubdirectory("fwatchdog-orphans-").FullName;
        await using var watchdog = WatchdogProcess.Start(
            new Dictionary<string, string> { ["fprocess"] = $"sh {TestWatchdog.Fixture("orphan.sh")} {folder}", ["port"] = "0", ["metrics_port"] = "0", ["suppress_lock"] = "true", ["bind_address"] = "127.0.0.1" },
            wrapper: ["unshare", "--pid", "--fork", "--mount-proc"]);
        await watchdog.WaitUntilListeningAsync();
        using var client = new HttpClient();
        for (var i = 0; i < 5; i++)
        {
            (await client.GetStringAsync(watchdog.Url)).Should().Be("done\n");
        }

        // unshare forks: its child is the watchdog, PID 1 inside the new namespace.
        var init = Processes.ChildrenOf(watchdog.Pid).Single();
        (await Processes.EventuallyAsync(() => Processes.ChildrenOf(init).Count(Processes.IsAlive) == 5, TimeSpan.FromSeconds(20)))
            .Should().BeTrue($"the five orphans are re-parented to the watchdog as PID 1; its children: {Describe(Processes.ChildrenOf(init))}");
        await File.WriteAllTextAsync(Path.Combine(folder, "go"), "");

        (await Processes.EventuallyAsync(() => Processes.ChildrenOf(init).Count == 0, TimeSpan.FromSeconds(20)))
            .Should().BeTrue($"orphans that exited must be reaped by the watchdog as PID 1; its children: {Describe(Processes.ChildrenOf(init))}");
        Directory.Delete(folder, recursive: true);
    }

    private static string Describe(IEnumerable<int> pids) =>
        string.Join(", ", pids.Select(pid => $"{pid} {(Processes.IsAlive(pid) ? "alive" : "zombie")}"));
}
