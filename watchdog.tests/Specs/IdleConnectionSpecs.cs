using System.Collections.Concurrent;
using Fwatchdog.Configuration;

namespace Fwatchdog.Tests.Specs;

/// <summary>
/// Pooled keep-alive connections while they wait for their next call, through the gateway and
/// through mode=http (the same forwarder): bytes an upstream sends nobody, or its close, end the
/// idle connection at once, so a stray answer never reaches a later caller and a poisoned
/// connection does not sit in the pool until someone tries to reuse it.
/// </summary>
public sealed class IdleConnectionSpecs : FastTier
{
    private const string Stray = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray";

    public static TheoryData<string> Fronts => ["gateway", "mode=http"];

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(Fronts))]
    public async Task A_stray_response_300ms_after_a_complete_one_never_reaches_a_later_caller(string front)
    {
        var strays = new ConcurrentBag<Task>();
        await using var upstream = ScriptedUpstream.Start(async exchange =>
        {
            await exchange.WriteAsync(ScriptedUpstream.OwnAnswer(exchange.Request));
            strays.Add(SendLaterAsync(exchange, TimeSpan.FromMilliseconds(300), e => e.WriteAsync(Stray)));
        });
        await using var entry = await Entry.StartAsync(front, upstream.Url);

        // A first call whose stray ends its connection: every path has run once before the timed part.
        (await entry.CallAsync("warm")).Should().Be((200, "own:warm"));
        var warm = upstream.Requests.Single(r => r.Header("X-Marker") == "warm").Connection;
        (await Processes.EventuallyAsync(() => upstream.IsClosed(warm), TimeSpan.FromSeconds(10))).Should().BeTrue("the warm-up's stray ends its connection");

        // Bursts of calls 0-100 ms apart (reusing the connection before its stray comes), 500 ms
        // between bursts (the stray arrives on an idle connection). No call is on its way when a
        // stray leaves: a stray that crosses a request on the wire is that call's (wrong) answer,
        // which no client can tell from a real one.
        int[] gapsMs = [0, 0, 50, 500, 0, 100, 500, 20, 40, 500, 0, 0, 500, 80, 500];
        for (var i = 0; i < gapsMs.Length; i++)
        {
            await Task.Delay(gapsMs[i]);
            (await entry.CallAsync($"c{i}")).Should().Be((200, $"own:c{i}"), $"call {i} (after {gapsMs[i]} ms) gets its own answer, never the stray one");
        }

        var requests = upstream.Requests.ToArray();
        requests.Where(r => r.Header("X-Marker").StartsWith('c')).Select(r => r.Connection).Distinct().Should()
            .HaveCountLessThan(gapsMs.Length, "clean idle connections are reused: the watch does not end them");
        await Task.WhenAll(strays).WaitAsync(TimeSpan.FromSeconds(10));
        upstream.Requests.Count(r => r.Header("X-Marker").StartsWith('c')).Should().Be(gapsMs.Length, "no call was sent twice");
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Fronts))]
    public async Task An_idle_connection_that_receives_bytes_nobody_asked_for_is_closed_at_once(string front)
    {
        // Without the watch the connection stays open until a later call tries to reuse it, here never.
        var (connection, next) = await IdleConnectionEndsAsync(front, "stray", TimeSpan.FromMilliseconds(300), e => e.WriteAsync("H"),
            "the byte reached the idle connection", "the forwarder closes an idle connection as soon as a byte nobody asked for arrives");
        next.Should().NotBe(connection);
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Fronts))]
    public async Task An_idle_connection_the_upstream_half_closes_is_closed_at_once(string front) =>
        await IdleConnectionEndsAsync(front, "fin", TimeSpan.FromMilliseconds(100), e =>
            {
                e.CloseSending();
                return Task.CompletedTask;
            },
            "the upstream half-closed the idle connection", "the forwarder closes its side of an idle connection the upstream has closed, not only when it next tries to reuse it");

    /// <summary>
    /// One call marked <paramref name="marker"/>; <paramref name="delay"/> after its answer, while the
    /// connection is idle in the pool, the upstream does <paramref name="act"/> on it. The forwarder
    /// must then close the connection by itself (generous for a loaded machine: within 3 s), and a
    /// next call still gets its answer. Returns the connection and the one the next call used.
    /// </summary>
    private static async Task<(int Connection, int Next)> IdleConnectionEndsAsync(string front, string marker, TimeSpan delay,
        Func<ScriptedExchange, Task> act, string reached, string closed)
    {
        var sent = new ConcurrentDictionary<int, Task<bool>>();
        var openUntilThen = new ConcurrentDictionary<int, bool>();
        ScriptedUpstream? self = null;
        await using var upstream = ScriptedUpstream.Start(async exchange =>
        {
            // Noted before the answer goes out: the spec reads it as soon as its call returns.
            var connection = exchange.Request.Connection;
            if (exchange.Request.Header("X-Marker") == marker)
            {
                sent[connection] = SendLaterAsync(exchange, delay, e =>
                {
                    openUntilThen[connection] = self is { } server && !server.IsClosed(connection);
                    return act(e);
                });
            }

            await exchange.WriteAsync(ScriptedUpstream.OwnAnswer(exchange.Request));
        });
        self = upstream;
        await using var entry = await Entry.StartAsync(front, upstream.Url);

        (await entry.CallAsync(marker)).Should().Be((200, "own:" + marker));
        var (connection, done) = sent.Single();
        (await done.WaitAsync(TimeSpan.FromSeconds(10))).Should().BeTrue(reached);
        openUntilThen[connection].Should().BeTrue("a clean idle connection stays open for reuse until something arrives");
        (await Processes.EventuallyAsync(() => upstream.IsClosed(connection), TimeSpan.FromSeconds(3))).Should().BeTrue(closed);
        (await entry.CallAsync("after")).Should().Be((200, "own:after"));
        return (connection, upstream.Requests.Single(r => r.Header("X-Marker") == "after").Connection);
    }

    /// <summary>After <paramref name="delay"/>, does <paramref name="act"/> on the exchange's connection; false when the connection had gone.</summary>
    private static async Task<bool> SendLaterAsync(ScriptedExchange exchange, TimeSpan delay, Func<ScriptedExchange, Task> act)
    {
        await Task.Delay(delay);
        try
        {
            await act(exchange);
            return true;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The gateway (function "idle") or a mode=http watchdog in front of one upstream.</summary>
    private sealed class Entry(HttpClient client, Uri target, IAsyncDisposable server) : IAsyncDisposable
    {
        public static async Task<Entry> StartAsync(string front, Uri upstream)
        {
            if (front == "gateway")
            {
                var gateway = await TestGateway.StartAsync(TestGateway.Stack(("idle", upstream)));
                return new Entry(gateway.Client, new Uri(gateway.Url, "/function/idle"), gateway);
            }

            var watchdog = await TestWatchdog.StartAsync(new Dictionary<string, string?>
            {
                ["fprocess"] = "sleep 3600",
                ["mode"] = "http",
                ["http_upstream_url"] = upstream.ToString(),
                ["exec_timeout"] = "30s",
            });
            var entry = new Entry(watchdog.Client, watchdog.Url, watchdog);
            (await Processes.EventuallyAsync(async () => (await entry.CallAsync("ready")).Status == 200, TimeSpan.FromSeconds(20)))
                .Should().BeTrue("the watchdog sees its upstream ready");
            return entry;
        }

        public async Task<(int Status, string Body)> CallAsync(string marker)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, target);
            request.Headers.TryAddWithoutValidation("X-Marker", marker);
            using var response = await client.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        public ValueTask DisposeAsync() => server.DisposeAsync();
    }
}
