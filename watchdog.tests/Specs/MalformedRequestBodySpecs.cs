using Fwatchdog.Configuration;

namespace Fwatchdog.Tests.Specs;

/// <summary>
/// A caller whose chunked request body breaks HTTP/1.1 framing gets 400 with a reason at once,
/// wherever the body goes (a sync call through the gateway, an async accept, mode=http, a forked
/// process), instead of holding its call until the function's timeout; other callers go on.
/// </summary>
public sealed class MalformedRequestBodySpecs : FastTier
{
    private const string Head = "Transfer-Encoding: chunked\r\nX-Marker: bad\r\n\r\n";

    /// <summary>Chunked bodies Kestrel refuses, each after a first good chunk the function may already have.</summary>
    public static readonly Dictionary<string, string> Bodies = new()
    {
        ["chunk_size_of_17_hex_digits"] = "3\r\nabc\r\n10000000000000005\r\nhello\r\n0\r\n\r\n",
        ["bare_lf_after_the_chunk_size"] = "3\r\nabc\r\n5\nhello\n0\n\n",
        ["bad_chunk_extension"] = "3\r\nabc\r\n5;a\rb\r\nhello\r\n0\r\n\r\n",
        ["not_a_chunk_size"] = "3\r\nabc\r\nzz\r\nhello\r\n0\r\n\r\n",
    };

    public static TheoryData<string, string> Cases()
    {
        var cases = new TheoryData<string, string>();
        foreach (var front in new[] { "gateway", "async", "mode=http", "fork" })
        {
            foreach (var body in Bodies.Keys)
            {
                cases.Add(front, body);
            }
        }

        return cases;
    }

    [Theory(Timeout = 90_000)]
    [MemberData(nameof(Cases))]
    public async Task A_malformed_chunked_body_gets_400_at_once_and_other_callers_their_answers(string front, string body)
    {
        await using var upstream = ScriptedUpstream.Start(async exchange =>
        {
            await exchange.ReadBodyAsync();
            await exchange.WriteAsync(ScriptedUpstream.OwnAnswer(exchange.Request));
        });
        await using var entry = await Entry.StartAsync(front, upstream.Url);

        await using var caller = await RawHttpClient.ConnectAsync(entry.Url);
        await caller.Stream.WriteAsync(Encoding.Latin1.GetBytes($"POST {entry.Path} HTTP/1.1\r\nHost: localhost\r\n{Head}{Bodies[body]}"));
        var (status, headers) = await caller.ReadHeadAsync().WaitAsync(TimeSpan.FromSeconds(10));

        status.Should().Be(400, $"{front}: a body that breaks chunked framing ({body}) is the caller's error, refused at once, not held until the 30 s timeout");
        headers.Should().ContainKey(entry.ReasonHeader, "the answer says why");
        headers[entry.ReasonHeader].Should().Be(entry.Reason);

        using var good = new HttpRequestMessage(HttpMethod.Post, new Uri(entry.Url, entry.Path)) { Content = new StringContent("fine") };
        good.Headers.TryAddWithoutValidation("X-Marker", "good");
        using var answer = await entry.Client.SendAsync(good);
        ((int)answer.StatusCode).Should().Be(entry.GoodStatus, "another caller is not affected");
    }

    /// <summary>Where the body goes: the gateway (sync or async, function "f") or a watchdog (mode=http or forking cat).</summary>
    private sealed record Entry(HttpClient Client, Uri Url, string Path, string ReasonHeader, string Reason, int GoodStatus, IAsyncDisposable Server) : IAsyncDisposable
    {
        public static async Task<Entry> StartAsync(string front, Uri upstream)
        {
            if (front is "gateway" or "async")
            {
                var gateway = await TestGateway.StartAsync(TestGateway.Stack(("f", $$"""{ "upstream": "{{upstream}}", "timeout": "30s" }""")),
                    new Dictionary<string, string> { ["read_timeout"] = "30s" });
                return front == "gateway"
                    ? new Entry(gateway.Client, gateway.Url, "/function/f", "X-Gateway-Reason", "bad_request_body", 200, gateway)
                    : new Entry(gateway.Client, gateway.Url, "/async-function/f", "X-Gateway-Reason", "bad_request_body", 202, gateway);
            }

            var env = new Dictionary<string, string?> { ["exec_timeout"] = "30s", ["read_timeout"] = "30s", ["write_timeout"] = "30s" };
            if (front == "mode=http")
            {
                env["fprocess"] = "sleep 3600";
                env["mode"] = "http";
                env["http_upstream_url"] = upstream.ToString();
            }
            else
            {
                env["fprocess"] = "cat";
            }

            var watchdog = await TestWatchdog.StartAsync(env);
            var entry = new Entry(watchdog.Client, watchdog.Url, "/", "X-Watchdog-Reason", "bad-request-body", 200, watchdog);
            (await Processes.EventuallyAsync(async () =>
            {
                using var response = await watchdog.Client.PostAsync(watchdog.Url, new StringContent("ready"));
                return (int)response.StatusCode == 200;
            }, TimeSpan.FromSeconds(20))).Should().BeTrue("the watchdog is ready");
            return entry;
        }

        public ValueTask DisposeAsync() => Server.DisposeAsync();
    }
}
