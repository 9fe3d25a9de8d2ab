using System.Collections.Concurrent;
using Fwatchdog.Native;

namespace Fwatchdog.Tests.Specs;

/// <summary>The gateway as a real process: killed, stopped, misconfigured, and running local functions.</summary>
public sealed class GatewayLifecycleSpecs
{
    [Fact(Timeout = 120_000)]
    public async Task Gateway_killed_with_SIGKILL_while_accepting_and_running_loses_no_accepted_call()
    {
        await using var function = await TestUpstream.StartAsync(async (context, request) =>
        {
            await Task.Delay(100);
            await context.Response.Body.WriteAsync(request.Body);
        });
        await using var receiver = await TestUpstream.StartAsync();
        var folder = Directory.CreateTempSubdirectory("fwatchdog-kill-").FullName;
        var environment = TestGateway.ProcessEnvironment(folder, TestGateway.Stack(("work", function.Url)));
        var accepted = new ConcurrentDictionary<string, bool>();

        await using (var first = WatchdogProcess.Start(environment, ["gateway"]))
        {
            await first.WaitUntilListeningAsync();
            using var client = new HttpClient { BaseAddress = first.Url, Timeout = TimeSpan.FromSeconds(10) };
            using var stop = new CancellationTokenSource();
            var submitters = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
            {
                for (var i = 0; i < 100 && !stop.IsCancellationRequested; i++)
                {
                    try
                    {
                        using var request = new HttpRequestMessage(HttpMethod.Post, "/async-function/work") { Content = new StringContent($"{worker}-{i}") };
                        request.Headers.Add("X-Callback-Url", receiver.Url + "cb");
                        using var response = await client.SendAsync(request);
                        if (response.StatusCode == HttpStatusCode.Accepted)
                        {
                            accepted[response.Headers.GetValues("X-Call-Id").Single()] = true;
                        }
                    }
                    catch (HttpRequestException)
                    {
                        return;
                    }
                }
            })).ToList();

            await Processes.EventuallyAsync(() => accepted.Count >= 150 && receiver.All.Count >= 10, TimeSpan.FromSeconds(30));
            first.Signal(Libc.SIGKILL);
            await first.WaitForExitAsync(TimeSpan.FromSeconds(10));
            await stop.CancelAsync();
            await Task.WhenAll(submitters);
        }

        var deliveredBeforeRestart = receiver.All.Count;
        deliveredBeforeRestart.Should().BeLessThan(accepted.Count, "the kill should land while work is still queued");
        await using (var second = WatchdogProcess.Start(environment, ["gateway"]))
        {
            await second.WaitUntilListeningAsync();
            int Missing() => accepted.Keys.Except(receiver.All.Select(c => c.Header("X-Call-Id"))).Count();
            await Processes.EventuallyAsync(() => Missing() == 0, TimeSpan.FromSeconds(60));
            Missing().Should().Be(0, $"every one of the {accepted.Count} accepted calls must be called back");
        }

        Directory.Delete(folder, recursive: true);
    }

    [Fact(Timeout = 60_000)]
    public async Task SIGTERM_stops_accepting_releases_a_running_call_and_exits_0_and_the_call_completes_after_restart()
    {
        var slow = true;
        await using var function = await TestUpstream.StartAsync(async (context, _) =>
        {
            if (Volatile.Read(ref slow))
            {
                await Task.Delay(30_000, context.RequestAborted);
            }
        });
        var folder = Directory.CreateTempSubdirectory("fwatchdog-term-").FullName;
        var environment = TestGateway.ProcessEnvironment(folder, TestGateway.Stack(("work", function.Url)));
        environment["shutdown_timeout"] = "300ms";
        string callId;

        await using (var gateway = WatchdogProcess.Start(environment, ["gateway"]))
        {
            await gateway.WaitUntilListeningAsync();
            using var client = new HttpClient { BaseAddress = gateway.Url };
            using var accepted = await client.PostAsync("/async-function/work", new StringContent("x"));
            callId = TestGateway.Remember(accepted);
            await function.NextAsync();

            gateway.Signal(Libc.SIGTERM);
            await gateway.WaitForExitAsync(TimeSpan.FromSeconds(15));
            gateway.ExitCode.Should().Be(0);
            gateway.Output.Should().Contain("released back to the queue");
        }

        Volatile.Write(ref slow, false);
        await using (var gateway = WatchdogProcess.Start(environment, ["gateway"]))
        {
            await gateway.WaitUntilListeningAsync();
            using var client = new HttpClient { BaseAddress = gateway.Url };
            var status = await client.GetFromJsonAsync<JsonElement>(TestGateway.StatusOf(callId));
            for (var tries = 0; tries < 400 && status.GetProperty("state").GetString() != "succeeded"; tries++)
            {
                await Task.Delay(50);
                status = await client.GetFromJsonAsync<JsonElement>(TestGateway.StatusOf(callId));
            }

            status.GetProperty("state").GetString().Should().Be("succeeded");
            status.GetProperty("attempts").GetInt32().Should().Be(1, "a released call does not use up an attempt");
        }

        Directory.Delete(folder, recursive: true);
    }

    [Fact(Timeout = 30_000)]
    public async Task Bad_configuration_exits_2_naming_every_problem()
    {
        var folder = Directory.CreateTempSubdirectory("fwatchdog-badcfg-").FullName;
        var stack = Path.Combine(folder, "stack.json");
        await File.WriteAllTextAsync(stack, """{ "functions": { "a": { "upstream": "ftp://x" }, "b": { "fprocess": "cat", "timeout": "soon" }, "c": { "fprocess": "cat", "upstream": "http://127.0.0.1:1" } } }""");

        var (exitCode, output) = await WatchdogProcess.RunAsync(new Dictionary<string, string>
        {
            ["config"] = stack,
            ["queue_workers"] = "many",
            ["retry_codes"] = "429,abc",
        }, "gateway");

        exitCode.Should().Be(2);
        output.Should().Contain("queue_workers=\"many\"").And.Contain("retry_codes=\"429,abc\"")
            .And.Contain("functions.a.upstream=\"ftp://x\"").And.Contain("functions.b.timeout=\"soon\"")
            .And.Contain("functions.c: has both \"upstream\" and \"fprocess\"");
        Directory.Delete(folder, recursive: true);
    }

    [Fact(Timeout = 60_000)]
    public async Task Local_function_runs_as_a_child_watchdog_and_is_restarted_when_it_dies()
    {
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("wc", """{ "fprocess": "wc -c" }""")));
        var host = gateway.App.LocalFunctions["wc"];

        (await gateway.Client.PostAsync("/function/wc", new StringContent("12345"))).EnsureSuccessStatusCode();
        using (var response = await gateway.Client.PostAsync("/function/wc", new StringContent("12345")))
        {
            (await response.Content.ReadAsStringAsync()).Trim().Should().Be("5");
        }

        var pid = host.Pid ?? throw new InvalidOperationException("local function has no process");
        Libc.Kill(pid, Libc.SIGKILL);
        (await Processes.EventuallyAsync(() => host.Pid is { } again && again != pid && host.BaseUri is not null, TimeSpan.FromSeconds(20)))
            .Should().BeTrue("the gateway restarts a local function that died");
        using var after = await gateway.Client.PostAsync("/function/wc", new StringContent("123"));
        (await after.Content.ReadAsStringAsync()).Trim().Should().Be("3");
        host.Starts.Should().Be(2);
    }
}
