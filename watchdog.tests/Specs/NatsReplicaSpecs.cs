using System.Collections.Concurrent;
using Fwatchdog.Native;

namespace Fwatchdog.Tests.Specs;

/// <summary>Several gateway replicas on one nats-server: shared work, a replica killed, NATS restarted, big bodies.</summary>
public sealed class NatsReplicaSpecs(NatsServer nats) : IClassFixture<NatsServer>
{
    [Fact(Timeout = 120_000)]
    public async Task Two_replicas_share_500_calls_and_each_is_run_and_called_back_exactly_once()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var receiver = await TestUpstream.StartAsync();
        var settings = nats.Settings();
        await using var first = TestGateway.StartProcess(settings, function.Url);
        await using var second = TestGateway.StartProcess(settings, function.Url);
        await Task.WhenAll(first.WaitUntilListeningAsync(), second.WaitUntilListeningAsync());
        using var toFirst = new HttpClient { BaseAddress = first.Url };
        using var toSecond = new HttpClient { BaseAddress = second.Url };
        var accepted = new ConcurrentDictionary<string, bool>();

        await Parallel.ForEachAsync(Enumerable.Range(0, 500), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/async-function/work") { Content = new StringContent($"call-{i}") };
            request.Headers.Add("X-Callback-Url", receiver.Url + "cb");
            using var response = await (i % 2 == 0 ? toFirst : toSecond).SendAsync(request);
            response.StatusCode.Should().Be(HttpStatusCode.Accepted);
            accepted[response.Headers.GetValues("X-Call-Id").Single()] = true;
        });

        await receiver.WaitForAsync(500, TimeSpan.FromSeconds(60));
        await Task.Delay(1000);
        receiver.All.Select(c => c.Header("X-Call-Id")).Should().OnlyHaveUniqueItems().And.BeEquivalentTo(accepted.Keys);
        function.All.Should().HaveCount(500, "no call runs twice in a run without faults");
        first.Output.Should().Contain("succeeded with 200");
        second.Output.Should().Contain("succeeded with 200", "both replicas pull from the shared consumer");
    }

    [Fact(Timeout = 120_000)]
    public async Task A_replica_killed_with_SIGKILL_mid_run_loses_no_accepted_call()
    {
        // After the first 30 calls the function holds every call until the kill, so the kill lands
        // while calls are still queued or running however slowly this machine accepts them.
        var started = 0;
        var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var function = await TestUpstream.StartAsync(async (context, request) =>
        {
            if (Interlocked.Increment(ref started) > 30)
            {
                await killed.Task.WaitAsync(TimeSpan.FromSeconds(60));
            }

            await context.Response.Body.WriteAsync(request.Body);
        });
        await using var receiver = await TestUpstream.StartAsync();
        var settings = nats.Settings();
        await using var survivor = TestGateway.StartProcess(settings, function.Url);
        await using var victim = TestGateway.StartProcess(settings, function.Url);
        await Task.WhenAll(survivor.WaitUntilListeningAsync(), victim.WaitUntilListeningAsync());
        var accepted = new ConcurrentDictionary<string, bool>();

        using (var client = new HttpClient { BaseAddress = victim.Url })
        {
            for (var i = 0; i < 300; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/async-function/work") { Content = new StringContent($"call-{i}") };
                request.Headers.Add("X-Callback-Url", receiver.Url + "cb");
                using var response = await client.SendAsync(request);
                response.StatusCode.Should().Be(HttpStatusCode.Accepted);
                accepted[response.Headers.GetValues("X-Call-Id").Single()] = true;
            }
        }

        await Processes.EventuallyAsync(() => receiver.All.Count >= 30, TimeSpan.FromSeconds(30));
        victim.Signal(Libc.SIGKILL);
        await victim.WaitForExitAsync(TimeSpan.FromSeconds(10));
        receiver.All.Count.Should().BeLessThan(300, "the kill should land while calls are still queued or running");
        killed.SetResult();

        int Missing() => accepted.Keys.Except(receiver.All.Select(c => c.Header("X-Call-Id"))).Count();
        await Processes.EventuallyAsync(() => Missing() == 0, TimeSpan.FromSeconds(60));
        Missing().Should().Be(0, "the surviving replica finishes every accepted call (at least once)");
    }

    [Fact(Timeout = 120_000)]
    public async Task NATS_restarted_mid_run_loses_no_accepted_call_and_while_it_is_down_async_gets_503_and_sync_still_works()
    {
        await using var function = await TestUpstream.StartAsync(async (context, request) =>
        {
            await Task.Delay(20);
            await context.Response.Body.WriteAsync(request.Body);
        });
        await using var receiver = await TestUpstream.StartAsync();
        var settings = nats.Settings();
        settings["queue_lease"] = "2s";
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("work", function.Url)), settings);
        var accepted = new ConcurrentDictionary<string, bool>();

        async Task SubmitAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                using var response = await gateway.PostAsync("/async-function/work", $"call-{i}", ("X-Callback-Url", receiver.Url + "cb"));
                response.StatusCode.Should().Be(HttpStatusCode.Accepted);
                accepted[response.Headers.GetValues("X-Call-Id").Single()] = true;
            }
        }

        await SubmitAsync(150);
        nats.Stop();
        using (var refused = await gateway.PostAsync("/async-function/work", "while down"))
        {
            refused.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            refused.Headers.GetValues("X-Gateway-Reason").Should().Equal("queue_unavailable");
            refused.Headers.RetryAfter.Should().NotBeNull();
        }

        using (var sync = await gateway.PostAsync("/function/work", "sync while down"))
        {
            sync.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        await nats.RestartAsync(TimeSpan.FromMilliseconds(500));
        var resumed = false;
        for (var tries = 0; tries < 100 && !resumed; tries++)
        {
            using var probe = await gateway.PostAsync("/async-function/work", "after restart", ("X-Callback-Url", receiver.Url + "cb"));
            resumed = probe.StatusCode == HttpStatusCode.Accepted;
            if (resumed)
            {
                accepted[probe.Headers.GetValues("X-Call-Id").Single()] = true;
            }
            else
            {
                await Task.Delay(100);
            }
        }

        resumed.Should().BeTrue("the gateway reconnects to NATS");
        await SubmitAsync(50);
        int Missing() => accepted.Keys.Except(receiver.All.Select(c => c.Header("X-Call-Id"))).Count();
        await Processes.EventuallyAsync(() => Missing() == 0, TimeSpan.FromSeconds(60));
        Missing().Should().Be(0, "every call accepted before, during and after the restart is run and called back");
    }

    [Fact(Timeout = 60_000)]
    public async Task Any_replica_reports_and_cancels_a_call_running_on_another()
    {
        var aborted = new TaskCompletionSource();
        await using var function = await TestUpstream.StartAsync(async (context, _) =>
        {
            try
            {
                await Task.Delay(30_000, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                aborted.TrySetResult();
            }
        });
        var settings = nats.Settings();
        settings["queue_lease"] = "900ms";
        await using var runner = await TestGateway.StartAsync(TestGateway.Stack(("slow", function.Url)), settings);
        using var accepted = await runner.PostAsync("/async-function/slow", "x");
        var callId = accepted.Headers.GetValues("X-Call-Id").Single();
        await function.NextAsync();

        // The second replica joins after the call is running on the first, so it cannot hold it.
        await using var other = await TestGateway.StartAsync(TestGateway.Stack(("slow", function.Url)), settings);
        (await other.WaitForStateAsync(callId, TimeSpan.FromSeconds(5), "running")).GetProperty("attempts").GetInt32().Should().Be(1);
        using var cancel = await other.Client.DeleteAsync(TestGateway.StatusOf(callId));

        cancel.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await Task.WhenAny(aborted.Task, Task.Delay(10_000))).Should().Be(aborted.Task, "the replica running the call drops it at its next lease renewal");
        (await runner.WaitForStateAsync(callId, TimeSpan.FromSeconds(5), "cancelled")).GetProperty("state").GetString().Should().Be("cancelled");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_gateway_started_while_NATS_is_down_serves_sync_calls_refuses_async_ones_and_queues_once_NATS_is_up()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var ownNats = new NatsServer();
        ownNats.Stop();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)), ownNats.Settings());

        using (var refused = await gateway.PostAsync("/async-function/echo", "x"))
        {
            refused.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            refused.Headers.GetValues("X-Gateway-Reason").Should().Equal("queue_unavailable");
        }

        (await gateway.PostAsync("/function/echo", "sync")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await gateway.Client.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK, "liveness does not depend on NATS");
        using (var notReady = await gateway.Client.GetAsync("/readyz"))
        {
            notReady.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            (await notReady.Content.ReadAsStringAsync()).Should().Contain("queue unavailable");
        }

        await ownNats.RestartAsync(TimeSpan.Zero);
        string? callId = null;
        for (var tries = 0; tries < 100 && callId is null; tries++)
        {
            using var response = await gateway.PostAsync("/async-function/echo", "queued");
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                callId = response.Headers.GetValues("X-Call-Id").Single();
            }
            else
            {
                await Task.Delay(100);
            }
        }

        callId.Should().NotBeNull("the gateway connects once NATS is up");
        (await gateway.Client.GetAsync("/readyz")).StatusCode.Should().Be(HttpStatusCode.OK);
        await gateway.WaitForStateAsync(callId ?? "", TimeSpan.FromSeconds(20), "succeeded");
    }

    [Fact(Timeout = 60_000)]
    public async Task Worker_pools_scoped_with_queue_functions_run_only_their_functions_calls()
    {
        await using var resizeOnA = await TestUpstream.StartAsync();
        await using var mailOnA = await TestUpstream.StartAsync();
        await using var mailOnB = await TestUpstream.StartAsync();
        var shared = nats.Settings();
        var poolA = new Dictionary<string, string>(shared) { ["queue_functions"] = "resize", ["nats_consumer"] = shared["nats_consumer"] + "_a" };
        var poolB = new Dictionary<string, string>(shared) { ["queue_functions"] = "mail", ["nats_consumer"] = shared["nats_consumer"] + "_b" };
        await using var a = await TestGateway.StartAsync(TestGateway.Stack(("resize", resizeOnA.Url), ("mail", mailOnA.Url)), poolA);
        await using var b = await TestGateway.StartAsync(TestGateway.Stack(("mail", mailOnB.Url)), poolB);

        var ids = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            using var resize = await a.PostAsync("/async-function/resize", $"r{i}");
            using var mail = await a.PostAsync("/async-function/mail", $"m{i}");
            ids.Add(resize.Headers.GetValues("X-Call-Id").Single());
            ids.Add(mail.Headers.GetValues("X-Call-Id").Single());
        }

        foreach (var id in ids)
        {
            await a.WaitForStateAsync(id, TimeSpan.FromSeconds(20), "succeeded");
        }

        resizeOnA.All.Should().HaveCount(10);
        mailOnB.All.Should().HaveCount(10, "mail calls accepted by A are run by B's pool");
        mailOnA.All.Should().BeEmpty("A's workers only run resize");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_dead_call_lands_in_the_dead_letter_stream_with_its_error()
    {
        await using var function = await TestUpstream.StartAsync((context, _) =>
        {
            context.Response.StatusCode = 502;
            return Task.CompletedTask;
        });
        var settings = nats.Settings();
        settings["max_attempts"] = "2";
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("broken", function.Url)), settings);

        using var accepted = await gateway.PostAsync("/async-function/broken", "lost cause");
        var callId = accepted.Headers.GetValues("X-Call-Id").Single();
        await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(20), "dead");

        await using var client = new NATS.Client.Core.NatsConnection(new NATS.Client.Core.NatsOpts { Url = nats.Url });
        var js = new NATS.Client.JetStream.NatsJSContext(client);
        var consumer = await js.CreateOrUpdateConsumerAsync(settings["nats_stream"] + "_DEAD", new NATS.Client.JetStream.Models.ConsumerConfig("check"));
        var letter = await consumer.NextAsync<byte[]>();
        var text = System.Text.Encoding.UTF8.GetString(letter?.Data ?? []);
        letter?.Subject.Should().Be(settings["nats_subject"] + "_dead.broken");
        text.Should().Contain(callId).And.Contain("gave up after 2 attempts").And.Contain("\"statusCode\":502");
    }

    [Fact(Timeout = 60_000)]
    public async Task Bodies_over_the_NATS_message_limit_go_through_the_object_store()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var receiver = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)), nats.Settings());
        var body = new byte[3 << 20];
        Random.Shared.NextBytes(body);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/async-function/echo") { Content = new ByteArrayContent(body) };
        request.Headers.Add("X-Callback-Url", receiver.Url + "cb");
        using var accepted = await gateway.Client.SendAsync(request);

        accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await function.NextAsync()).Body.Should().Equal(body);
        var callback = await receiver.NextAsync();
        callback.Body.Should().Equal(body);
        using var result = await gateway.Client.GetAsync(TestGateway.StatusOf(accepted.Headers.GetValues("X-Call-Id").Single()) + "/result");
        (await result.Content.ReadAsByteArrayAsync()).Should().Equal(body);
    }
}
