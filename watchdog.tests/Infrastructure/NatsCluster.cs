using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// Three real nats-server processes (the Debian package) clustered on loopback with JetStream,
/// each with its own store, for the high-availability specs: any node can be killed and started
/// again on the same ports and store, as a machine that fails and comes back.
/// </summary>
public sealed class NatsCluster : IAsyncDisposable
{
    private NatsCluster(IReadOnlyList<NatsServer> nodes)
    {
        Nodes = nodes;
    }

    public IReadOnlyList<NatsServer> Nodes { get; }

    /// <summary>Every node's client URL, comma-separated, as nats_url takes a cluster.</summary>
    public string Url => string.Join(",", Nodes.Select(n => n.Url));

    public static async Task<NatsCluster> StartAsync(int size = 3)
    {
        var routes = Enumerable.Range(0, size).Select(_ => Ports.Unshared()).ToList();
        var all = string.Join(",", routes.Select(p => $"nats://127.0.0.1:{p.ToString(CultureInfo.InvariantCulture)}"));
        var nodes = routes.Select((route, i) => new NatsServer(
        [
            "--name", $"n{(i + 1).ToString(CultureInfo.InvariantCulture)}",
            "--cluster_name", "fwatchdog",
            "--cluster", $"nats://127.0.0.1:{route.ToString(CultureInfo.InvariantCulture)}",
            "--routes", all,
        ])).ToList();
        var cluster = new NatsCluster(nodes);
        await cluster.WaitForMetaLeaderAsync(TimeSpan.FromSeconds(30));
        return cluster;
    }

    /// <summary>Gateway settings for queue=nats on this cluster with names no other test uses.</summary>
    public Dictionary<string, string> Settings(int replicas)
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        return new Dictionary<string, string>
        {
            ["queue"] = "nats",
            ["nats_url"] = Url,
            ["nats_replicas"] = replicas.ToString(CultureInfo.InvariantCulture),
            ["nats_stream"] = "JOBS_" + id,
            ["nats_subject"] = "jobs" + id,
            ["nats_consumer"] = "workers_" + id,
            ["nats_bucket"] = "calls_" + id,
        };
    }

    /// <summary>The node that leads <paramref name="stream"/> now, asked of any node that answers.</summary>
    public async Task<NatsServer> LeaderOfAsync(string stream)
    {
        await using var connection = ToRunningNodes();
        var info = await new NatsJSContext(connection).GetStreamAsync(stream);
        return Node(info.Info.Cluster?.Leader ?? throw new InvalidOperationException($"stream {stream} has no leader"));
    }

    /// <summary>The node of a server name, n1 to n3 (<see cref="StartAsync"/> names them).</summary>
    private NatsServer Node(string name) => Nodes[int.Parse(name[1..], CultureInfo.InvariantCulture) - 1];

    private NatsConnection ToRunningNodes() => new(new NatsOpts { Url = string.Join(",", Nodes.Where(n => n.IsRunning).Select(n => n.Url)) });

    /// <summary>
    /// Kills <paramref name="node"/> (SIGKILL) and waits until every one of <paramref name="streams"/>
    /// it led has a new leader: the cluster's own election, as long as it took.
    /// </summary>
    public async Task<TimeSpan> KillAndElectAsync(NatsServer node, params string[] streams)
    {
        var led = new List<string>();
        foreach (var stream in streams)
        {
            if (await LeaderOfAsync(stream) == node)
            {
                led.Add(stream);
            }
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        node.Stop();
        await using var connection = ToRunningNodes();
        var js = new NatsJSContext(connection);
        foreach (var stream in led)
        {
            while (true)
            {
                clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60), $"the cluster should elect a new leader for {stream}");
                try
                {
                    using var ask = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                    var leader = (await js.GetStreamAsync(stream, cancellationToken: ask.Token)).Info.Cluster?.Leader;
                    if (leader is not null && Node(leader) != node)
                    {
                        break;
                    }
                }
                catch (Exception e) when (e is NatsException or OperationCanceledException)
                {
                    // no leader yet
                }

                await Task.Delay(100);
            }
        }

        return clock.Elapsed;
    }

    /// <summary>How many replicas <paramref name="stream"/> has, as its config says.</summary>
    public async Task<int> ReplicasOfAsync(string stream)
    {
        await using var connection = new NatsConnection(new NatsOpts { Url = Url });
        return (await new NatsJSContext(connection).GetStreamAsync(stream)).Info.Config.NumReplicas;
    }

    /// <summary>JetStream in a cluster answers once its nodes have elected a meta leader.</summary>
    private async Task WaitForMetaLeaderAsync(TimeSpan within)
    {
        var until = DateTime.UtcNow + within;
        while (true)
        {
            try
            {
                await using var connection = new NatsConnection(new NatsOpts { Url = Url });
                await new NatsJSContext(connection).GetAccountInfoAsync();
                return;
            }
            catch (Exception e) when (e is NatsException or TimeoutException && DateTime.UtcNow < until)
            {
                await Task.Delay(250);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }
    }
}
