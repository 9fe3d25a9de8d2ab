using System.Collections.Concurrent;
using Xunit.Abstractions;

namespace Fwatchdog.Tests.Specs;

/// <summary>
/// queue=nats with nats_replicas on a real three-node JetStream cluster (three nats-server
/// processes on loopback): what the replica count asks of the cluster, and what callers see
/// while nodes fail and come back.
/// </summary>
public sealed class NatsClusterSpecs(ITestOutputHelper output)
{
    [Fact(Timeout = 60_000)]
    public async Task More_replicas_than_the_servers_stop_the_start_with_one_line()
    {
        await using var single = new NatsServer();
        var settings = single.Settings();
        settings["nats_replicas"] = "3";
        await using var function = await TestUpstream.StartAsync();

        await using var gateway = TestGateway.StartProcess(settings, function.Url);
        await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30));

        gateway.ExitCode.Should().Be(2, gateway.Output);
        gateway.Output.Should().Contain($"fwatchdog: cannot start: nats_replicas=3: NATS at {single.Url} cannot keep that many copies")
            .And.Contain("give it a cluster of at least 3 JetStream servers, all up, or lower nats_replicas")
            .And.NotContain("   at ", "one line, no stack trace");
    }

    [Fact(Timeout = 120_000)]
    public async Task An_existing_queue_made_with_one_replica_is_changed_to_three_and_keeps_its_calls()
    {
        await using var cluster = await NatsCluster.StartAsync();
        await using var function = await TestUpstream.StartAsync();
        var settings = cluster.Settings(replicas: 1);
        string callId;
        await using (var r1 = TestGateway.StartProcess(settings, function.Url))
        {
            await r1.WaitUntilListeningAsync();
            using var client = new HttpClient { BaseAddress = r1.Url };
            using var accepted = await client.PostAsync("/async-function/work", new StringContent("kept"));
            accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
            callId = TestGateway.Remember(accepted);
            (await Processes.EventuallyAsync(async () => (await client.GetAsync(TestGateway.StatusOf(callId) + "/result")).IsSuccessStatusCode, TimeSpan.FromSeconds(30)))
                .Should().BeTrue();
        }

        (await cluster.ReplicasOfAsync(settings["nats_stream"])).Should().Be(1);
        settings["nats_replicas"] = "3";
        await using var r3 = TestGateway.StartProcess(settings, function.Url);
        await r3.WaitUntilListeningAsync();
        using var again = new HttpClient { BaseAddress = r3.Url };

        foreach (var stream in new[] { settings["nats_stream"], settings["nats_stream"] + "_DEAD", "KV_" + settings["nats_bucket"], "OBJ_" + settings["nats_bucket"] + "-bodies" })
        {
            (await cluster.ReplicasOfAsync(stream)).Should().Be(3, stream);
        }

        r3.Output.Should().Contain($"stream {settings["nats_stream"]} had 1 replicas; changed to nats_replicas=3");
        (await again.GetStringAsync(TestGateway.StatusOf(callId) + "/result")).Should().Be("kept");
    }

    [Fact(Timeout = 240_000)]
    public async Task The_stream_leader_and_then_another_node_fail_while_calls_flow_and_no_accepted_call_is_lost()
    {
        await using var cluster = await NatsCluster.StartAsync();
        await using var function = await TestUpstream.StartAsync();
        await using var receiver = await TestUpstream.StartAsync();
        var settings = cluster.Settings(replicas: 3);
        settings["queue_lease"] = "30s"; // the default: a lease outlives an election (specs elsewhere use 1 s)
        var stream = settings["nats_stream"];
        var bucket = "KV_" + settings["nats_bucket"];
        await using var first = TestGateway.StartProcess(settings, function.Url);
        await using var second = TestGateway.StartProcess(settings, function.Url);
        await Task.WhenAll(first.WaitUntilListeningAsync(), second.WaitUntilListeningAsync());
        (await Processes.EventuallyAsync(() => first.Output.Contains("NATS queue ready", StringComparison.Ordinal) && second.Output.Contains("NATS queue ready", StringComparison.Ordinal), TimeSpan.FromSeconds(30)))
            .Should().BeTrue("both gateways set the queue up on a healthy cluster first");
        (await cluster.ReplicasOfAsync(stream)).Should().Be(3);

        var clock = Stopwatch.StartNew();
        var accepted = new ConcurrentDictionary<string, TimeSpan>();
        var refused = new ConcurrentBag<string>();
        var statusAnswers = new ConcurrentQueue<TimeSpan>();
        using var stop = new CancellationTokenSource();
        var gateways = new[] { first.Url, second.Url };
        var callers = Enumerable.Range(0, 4).Select(caller => Task.Run(async () =>
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            for (var i = caller; !stop.IsCancellationRequested; i += 4)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateways[i % 2], "/async-function/work")) { Content = new StringContent($"call-{i}") };
                request.Headers.Add("X-Callback-Url", receiver.Url + "cb");
                try
                {
                    using var response = await client.SendAsync(request);
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        accepted[TestGateway.Remember(response)] = clock.Elapsed;
                    }
                    else
                    {
                        refused.Add($"{clock.Elapsed.TotalSeconds:F1}s {(int)response.StatusCode} {response.Headers.RetryAfter}");
                    }
                }
                catch (HttpRequestException e)
                {
                    refused.Add($"{clock.Elapsed.TotalSeconds:F1}s {e.Message}");
                }

                await Task.Delay(50);
            }
        })).ToList();
        var poller = Task.Run(async () =>
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                if (accepted.Keys.FirstOrDefault() is { } id)
                {
                    try
                    {
                        using var status = await client.GetAsync(new Uri(gateways[i % 2], TestGateway.StatusOf(id)));
                        if (status.StatusCode == HttpStatusCode.OK)
                        {
                            statusAnswers.Enqueue(clock.Elapsed);
                        }
                    }
                    catch (HttpRequestException)
                    {
                        // counted as no answer
                    }
                }

                await Task.Delay(200);
            }
        });

        await Task.Delay(TimeSpan.FromSeconds(5));
        var leader = await cluster.LeaderOfAsync(stream);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: killing the stream leader (node {cluster.Nodes.ToList().IndexOf(leader) + 1})");
        var kill = clock.Elapsed;
        var elections = new List<TimeSpan> { await cluster.KillAndElectAsync(leader, stream, bucket) };
        await Task.Delay(kill + TimeSpan.FromSeconds(15) - clock.Elapsed);
        leader.Start();
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: node {cluster.Nodes.ToList().IndexOf(leader) + 1} back");
        await Task.Delay(TimeSpan.FromSeconds(10));
        // Then another node: the one leading the status bucket if it can, else the stream's leader now.
        var bucketLeader = await cluster.LeaderOfAsync(bucket);
        var current = await cluster.LeaderOfAsync(stream);
        var another = bucketLeader != leader ? bucketLeader : current != leader ? current : cluster.Nodes.First(n => n != leader);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: killing node {cluster.Nodes.ToList().IndexOf(another) + 1} (bucket leader: {another == bucketLeader}, stream leader: {another == current})");
        kill = clock.Elapsed;
        elections.Add(await cluster.KillAndElectAsync(another, stream, bucket));
        await Task.Delay(kill + TimeSpan.FromSeconds(15) - clock.Elapsed);
        another.Start();
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: node {cluster.Nodes.ToList().IndexOf(another) + 1} back");
        await Task.Delay(TimeSpan.FromSeconds(5));
        var end = clock.Elapsed;
        await stop.CancelAsync();
        await Task.WhenAll(callers.Append(poller));

        int Missing() => accepted.Keys.Except(receiver.All.Select(c => c.Header("X-Call-Id"))).Count();
        await Processes.EventuallyAsync(() => Missing() == 0, TimeSpan.FromSeconds(90));
        var delivered = receiver.All.GroupBy(c => c.Header("X-Call-Id")).ToList();
        var acceptGap = LongestGap(accepted.Values, end);
        var statusGap = LongestGap(statusAnswers, end);
        output.WriteLine($"accepted {accepted.Count}, refused {refused.Count}, called back {delivered.Count}, twice or more {delivered.Count(g => g.Count() > 1)}, "
            + $"runs {function.All.Count}; longest accept gap {acceptGap.TotalSeconds:F1}s, longest status gap {statusGap.TotalSeconds:F1}s, "
            + $"elections {string.Join(" and ", elections.Select(e => $"{e.TotalSeconds:F1}s"))}");
        foreach (var line in refused.Take(20))
        {
            output.WriteLine("refused: " + line);
        }

        Missing().Should().Be(0, "every accepted call is run and called back (at least once)");
        delivered.Should().OnlyContain(g => g.All(c => c.Header("X-Function-Status") == "200"), "every accepted call succeeds");
        delivered.Count(g => g.Count() > 1).Should().BeLessThanOrEqualTo(accepted.Count / 100, "at least once, and twice only for the few a node loss caught mid-flight");
        accepted.Count.Should().BeGreaterThan(200, "calls flowed throughout");
        // nats-server 2.9 elects in 4 to 9 s (a random timeout); 2 s is for the accepts' own retry step
        // (a publish sent to the dying leader is given up after 2 s) and for seeing the new leader.
        acceptGap.Should().BeLessThan(elections.Max() + TimeSpan.FromSeconds(2), "accepts stop for no longer than the cluster's own leader election");
        statusGap.Should().BeLessThan(TimeSpan.FromSeconds(5), "the status API answers throughout");
    }

    /// <summary>The longest stretch between <paramref name="times"/> (from the first to <paramref name="end"/>).</summary>
    private static TimeSpan LongestGap(IEnumerable<TimeSpan> times, TimeSpan end)
    {
        var sorted = times.Order().Append(end).ToList();
        return sorted.Zip(sorted.Skip(1), (a, b) => b - a).DefaultIfEmpty(end).Max();
    }
}
