using System.Security.Cryptography;

namespace Fwatchdog.Tests.Specs;

/// <summary>Idempotency keys, callback delivery rules, cancel and leases of queued calls.</summary>
public abstract class AsyncControlSpecs : QueueBackendSpecs
{
    [Fact(Timeout = 30_000)]
    public async Task Second_submission_with_the_same_Idempotency_Key_returns_the_first_call_id_and_queues_nothing()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack(("echo", function.Url)));

        using var first = await gateway.PostAsync("/async-function/echo", "once", ("Idempotency-Key", "order-17"));
        using var second = await gateway.PostAsync("/async-function/echo", "once", ("Idempotency-Key", "order-17"));

        first.StatusCode.Should().Be(HttpStatusCode.Accepted);
        second.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var callId = first.Headers.GetValues("X-Call-Id").Single();
        second.Headers.GetValues("X-Call-Id").Should().Equal(callId);
        second.Headers.GetValues("Idempotency-Replayed").Should().Equal("true");
        await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(10), "succeeded");
        await Task.Delay(300);
        function.All.Should().HaveCount(1);
    }

    [Fact(Timeout = 30_000)]
    public async Task Callback_is_retried_on_5xx_and_a_redirect_is_recorded_as_failed_not_followed()
    {
        var tries = 0;
        await using var redirectTarget = await TestUpstream.StartAsync();
        await using var receiver = await TestUpstream.StartAsync((context, request) =>
        {
            if (request.RawTarget == "/moved")
            {
                context.Response.StatusCode = 302;
                context.Response.Headers.Location = redirectTarget.Url + "elsewhere";
            }
            else if (Interlocked.Increment(ref tries) <= 2)
            {
                context.Response.StatusCode = 500;
            }

            return Task.CompletedTask;
        });
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack(("echo", function.Url)));

        using var retried = await gateway.PostAsync("/async-function/echo", "x", ("X-Callback-Url", receiver.Url + "flaky"));
        var delivered = await gateway.WaitForCallbackAsync(retried.Headers.GetValues("X-Call-Id").Single(), TimeSpan.FromSeconds(15), "delivered");
        delivered.GetProperty("attempts").GetInt32().Should().Be(3);
        receiver.All.Select(r => r.Header("X-Callback-Attempt")).Should().Equal("1", "2", "3");

        using var moved = await gateway.PostAsync("/async-function/echo", "x", ("X-Callback-Url", receiver.Url + "moved"));
        var failed = await gateway.WaitForCallbackAsync(moved.Headers.GetValues("X-Call-Id").Single(), TimeSpan.FromSeconds(15), "failed");
        failed.GetProperty("statusCode").GetInt32().Should().Be(302);
        failed.GetProperty("error").GetString().Should().Contain("not followed");
        redirectTarget.All.Should().BeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public async Task Callback_carries_an_HMAC_SHA256_signature_the_receiver_can_check()
    {
        var secretFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(secretFile, "s3cret\n");
        await using var function = await TestUpstream.StartAsync();
        await using var receiver = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack(("echo", function.Url)), new Dictionary<string, string> { ["callback_secret_file"] = secretFile });

        using var accepted = await gateway.PostAsync("/async-function/echo", "signed body", ("X-Callback-Url", receiver.Url + "cb"));
        var callback = await receiver.NextAsync();
        File.Delete(secretFile);

        callback.Text.Should().Be("signed body");
        var timestamp = callback.Header("X-Callback-Timestamp");
        var signed = Encoding.UTF8.GetBytes(timestamp + "." + callback.Header("X-Call-Id") + ".").Concat(callback.Body).ToArray();
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData("s3cret"u8, signed));
        callback.Header("X-Callback-Signature").Should().Be(expected);
    }

    [Fact(Timeout = 30_000)]
    public async Task Cancelling_a_queued_call_means_it_never_runs()
    {
        var release = new TaskCompletionSource();
        await using var function = await TestUpstream.StartAsync(async (_, _) => await release.Task);
        await using var gateway = await StartAsync(TestGateway.Stack(("one", $$"""{ "upstream": "{{function.Url}}", "max_concurrency": 1 }""")));

        using var running = await gateway.PostAsync("/async-function/one", "first");
        await function.NextAsync();
        using var queued = await gateway.PostAsync("/async-function/one", "second");
        var queuedId = queued.Headers.GetValues("X-Call-Id").Single();
        (await gateway.Client.GetFromJsonAsync<JsonElement>(TestGateway.StatusOf(queuedId))).GetProperty("state").GetString().Should().Be("queued");

        using var cancel = await gateway.Client.DeleteAsync(TestGateway.StatusOf(queuedId));
        cancel.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await cancel.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString().Should().Be("cancelled");
        release.SetResult();
        await gateway.WaitForStateAsync(running.Headers.GetValues("X-Call-Id").Single(), TimeSpan.FromSeconds(10), "succeeded");
        await Task.Delay(500);
        function.All.Select(r => r.Text).Should().Equal("first");
        using var again = await gateway.Client.DeleteAsync(TestGateway.StatusOf(queuedId));
        again.StatusCode.Should().Be(HttpStatusCode.Conflict);
        using var unknown = await gateway.Client.DeleteAsync("/async-calls/no-such-call~AAAAAAAAAAAAAAAAAAAAAA");
        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact(Timeout = 30_000)]
    public async Task Cancelling_a_running_call_kills_the_function_process()
    {
        using var pids = new PidDirectory();
        await using var watchdog = await TestWatchdog.StartScriptAsync("record-pids.sh");
        await using var gateway = await StartAsync(TestGateway.Stack(("sleeper", watchdog.Url)));

        using var accepted = await gateway.PostAsync("/async-function/sleeper", "", ("X-Pid-Dir", pids.Path));
        var callId = accepted.Headers.GetValues("X-Call-Id").Single();
        var main = await pids.WaitForPidAsync("main");
        var grandchild = await pids.WaitForPidAsync("grandchild");
        (await gateway.Client.GetFromJsonAsync<JsonElement>(TestGateway.StatusOf(callId))).GetProperty("state").GetString().Should().Be("running");

        using var cancel = await gateway.Client.DeleteAsync(TestGateway.StatusOf(callId));

        cancel.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await Processes.EventuallyAsync(() => !Processes.IsAlive(main) && !Processes.IsAlive(grandchild), TimeSpan.FromSeconds(10)))
            .Should().BeTrue("the watchdog kills the process group when the gateway drops the call");
        (await gateway.Client.GetFromJsonAsync<JsonElement>(TestGateway.StatusOf(callId))).GetProperty("state").GetString().Should().Be("cancelled");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_call_longer_than_the_lease_runs_once_because_the_lease_is_renewed()
    {
        // The call lasts almost three leases; renewals come every third of a lease, so a renewal may be
        // a whole second late on a loaded machine before the lease would lapse (600 ms was flaky at load 5).
        await using var function = await TestUpstream.StartAsync(async (_, _) => await Task.Delay(4000));
        await using var gateway = await StartAsync(TestGateway.Stack(("long", function.Url)), new Dictionary<string, string> { ["queue_lease"] = "1500ms" });

        using var accepted = await gateway.PostAsync("/async-function/long", "x");
        var status = await gateway.WaitForStateAsync(accepted.Headers.GetValues("X-Call-Id").Single(), TimeSpan.FromSeconds(20), "succeeded");

        status.GetProperty("attempts").GetInt32().Should().Be(1);
        await Task.Delay(1600);
        function.All.Should().HaveCount(1);
    }

    [Fact(Timeout = 30_000)]
    public async Task Max_concurrency_caps_how_many_calls_of_a_function_run_at_once()
    {
        var running = 0;
        var peak = 0;
        await using var function = await TestUpstream.StartAsync(async (_, _) =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref peak, now);
            await Task.Delay(150);
            Interlocked.Decrement(ref running);
        });
        await using var gateway = await StartAsync(TestGateway.Stack(("capped", $$"""{ "upstream": "{{function.Url}}", "max_concurrency": 2 }""")));

        var ids = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            using var accepted = await gateway.PostAsync("/async-function/capped", "x");
            ids.Add(accepted.Headers.GetValues("X-Call-Id").Single());
        }

        foreach (var id in ids)
        {
            await gateway.WaitForStateAsync(id, TimeSpan.FromSeconds(20), "succeeded");
        }

        peak.Should().Be(2);
    }

    [Fact(Timeout = 30_000)]
    public async Task Queue_functions_limits_which_calls_this_gateways_workers_run()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack(("mine", function.Url), ("theirs", function.Url)),
            new Dictionary<string, string> { ["queue_functions"] = "mine" });

        using var theirs = await gateway.PostAsync("/async-function/theirs", "not here");
        using var mine = await gateway.PostAsync("/async-function/mine", "here");

        theirs.StatusCode.Should().Be(HttpStatusCode.Accepted, "calls are accepted for every function");
        await gateway.WaitForStateAsync(mine.Headers.GetValues("X-Call-Id").Single(), TimeSpan.FromSeconds(10), "succeeded");
        await Task.Delay(500);
        (await gateway.Client.GetFromJsonAsync<JsonElement>(TestGateway.StatusOf(theirs.Headers.GetValues("X-Call-Id").Single())))
            .GetProperty("state").GetString().Should().Be("queued");
        function.All.Select(r => r.Text).Should().Equal("here");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_dead_call_can_be_replayed_and_then_runs_again_from_attempt_one()
    {
        var healthy = false;
        await using var function = await TestUpstream.StartAsync((context, _) =>
        {
            context.Response.StatusCode = Volatile.Read(ref healthy) ? 200 : 503;
            return Task.CompletedTask;
        });
        await using var receiver = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack(("flaky", function.Url)), new Dictionary<string, string> { ["max_attempts"] = "2" });

        using var accepted = await gateway.PostAsync("/async-function/flaky", "again", ("X-Callback-Url", receiver.Url + "cb"));
        var callId = accepted.Headers.GetValues("X-Call-Id").Single();
        await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(20), "dead");
        await gateway.WaitForCallbackAsync(callId, TimeSpan.FromSeconds(10), "delivered");
        using (var early = await gateway.Client.PostAsync(TestGateway.StatusOf(callId) + "/result", null))
        {
            early.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        }

        Volatile.Write(ref healthy, true);
        using var replay = await gateway.Client.PostAsync(TestGateway.StatusOf(callId) + "/retry", null);

        replay.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var status = await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(20), "succeeded");
        status.GetProperty("attempts").GetInt32().Should().Be(1);
        await gateway.WaitForCallbackAsync(callId, TimeSpan.FromSeconds(10), "delivered");
        receiver.All.Select(c => c.Header("X-Job-State")).Should().Equal("dead", "succeeded");
        function.All.Should().HaveCount(3);
        using var twice = await gateway.Client.PostAsync(TestGateway.StatusOf(callId) + "/retry", null);
        twice.StatusCode.Should().Be(HttpStatusCode.Conflict, "a call that succeeded is not replayed");
    }

    [Fact(Timeout = 30_000)]
    public async Task Finished_calls_are_forgotten_after_async_retention()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack(("echo", function.Url)), new Dictionary<string, string> { ["async_retention"] = "3s" });

        // Long enough for the wait below to see the finished call on a busy machine, before it goes.
        using var accepted = await gateway.PostAsync("/async-function/echo", "x");
        var callId = accepted.Headers.GetValues("X-Call-Id").Single();
        await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(10), "succeeded");

        var gone = false;
        for (var tries = 0; tries < 100 && !gone; tries++)
        {
            await Task.Delay(100);
            using var status = await gateway.Client.GetAsync(TestGateway.StatusOf(callId));
            gone = status.StatusCode == HttpStatusCode.NotFound;
        }

        gone.Should().BeTrue("a finished call is kept for async_retention, then removed");
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}

/// <summary>The same specs against the embedded SQLite queue.</summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class AsyncControlSpecsOnSqlite : AsyncControlSpecs
{
    private protected override Dictionary<string, string> Backend() => [];
}

/// <summary>The same specs against NATS JetStream (a real nats-server).</summary>
public sealed class AsyncControlSpecsOnNats(NatsServer nats) : AsyncControlSpecs, IClassFixture<NatsServer>
{
    private protected override Dictionary<string, string> Backend() => nats.Settings();
}
