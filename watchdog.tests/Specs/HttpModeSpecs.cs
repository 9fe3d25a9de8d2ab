namespace Fwatchdog.Tests.Specs;

/// <summary>
/// mode=http against a real function server (Fixtures/upstream.py): readiness, pass-through
/// both ways, streaming, exec_timeout, restarts, max_inflight and big bodies.
/// </summary>
public sealed class HttpModeSpecs
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(30);

    [Fact(Timeout = 60_000)]
    public async Task Health_ready_and_calls_are_503_until_the_upstream_accepts_connections()
    {
        using var upstream = new HttpModeUpstream();
        await using var watchdog = await upstream.StartWatchdogAsync();

        using var health = await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/_/health"));
        using var ready = await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/_/ready"));
        using var call = await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/pid"));
        health.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        ready.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        call.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        call.Headers.GetValues("X-Watchdog-Reason").Should().Equal("upstream-not-ready");
        call.Headers.RetryAfter.Should().NotBeNull();

        upstream.Touch("gate");
        (await Processes.EventuallyAsync(async () => await IsOkAsync(watchdog, "/_/health"), Within)).Should().BeTrue();
        (await IsOkAsync(watchdog, "/_/ready")).Should().BeTrue();
        (await watchdog.Client.GetStringAsync(new Uri(watchdog.Url, "/pid"))).Should().MatchRegex("^[0-9]+$");
    }

    [Fact(Timeout = 60_000)]
    public async Task With_ready_path_health_waits_until_that_path_answers_2xx()
    {
        using var upstream = new HttpModeUpstream();
        upstream.Touch("gate");
        await using var watchdog = await upstream.StartWatchdogAsync(("ready_path", "/healthz"));
        (await Processes.EventuallyAsync(() => Task.FromResult(upstream.Has("gate")), Within)).Should().BeTrue();

        // The server listens (its /healthz answers 503) but is not healthy yet.
        (await Processes.EventuallyAsync(async () => await StatusAsync(watchdog, "/healthz") == 503, Within)).Should().BeTrue();
        (await IsOkAsync(watchdog, "/_/health")).Should().BeFalse();

        upstream.Touch("healthy");
        (await Processes.EventuallyAsync(async () => await IsOkAsync(watchdog, "/_/ready"), Within)).Should().BeTrue();
    }

    [Fact(Timeout = 60_000)]
    public async Task With_ready_path_readiness_follows_the_function_after_it_first_became_ready()
    {
        using var upstream = new HttpModeUpstream();
        upstream.Touch("gate");
        upstream.Touch("healthy");
        await using var watchdog = await ReadyAsync(upstream, ("ready_path", "/healthz"));
        var pid = await watchdog.Client.GetStringAsync(new Uri(watchdog.Url, "/pid"));

        upstream.Remove("healthy");
        (await Processes.EventuallyAsync(async () => await StatusAsync(watchdog, "/_/ready") == 503, Within)).Should().BeTrue();
        (await BodyAsync(watchdog, "/_/ready")).Should().Contain("GET /healthz no longer answers 2xx");
        (await watchdog.Client.GetStringAsync(new Uri(watchdog.Url, "/pid"))).Should().Be(pid, "calls still reach the running function");

        upstream.Touch("healthy");
        (await Processes.EventuallyAsync(async () => await IsOkAsync(watchdog, "/_/ready"), Within)).Should().BeTrue();
        (await watchdog.Client.GetStringAsync(new Uri(watchdog.Url, "/pid"))).Should().Be(pid, "a function that was not ready for a while is not restarted");
    }

    [Fact(Timeout = 60_000)]
    public async Task Method_raw_path_query_headers_and_body_go_through_and_status_and_headers_come_back()
    {
        using var upstream = new HttpModeUpstream();
        upstream.Touch("gate");
        await using var watchdog = await ReadyAsync(upstream);

        using var request = new HttpRequestMessage(HttpMethod.Patch, new Uri(watchdog.Url, "/inspect/a%2Fb?x=1&y=%20z&x=2"));
        request.Headers.Add("X-Custom", "value one");
        request.Headers.Add("X-Call-Id", "call-42");
        request.Headers.Add("X-Want-Status", "418");
        request.Content = new StringContent("the body", Encoding.UTF8, "application/json");
        using var response = await watchdog.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        ((int)response.StatusCode).Should().Be(418);
        response.Headers.GetValues("X-Reply").Should().Equal("a", "b");
        response.Headers.GetValues("X-Call-Id").Should().Equal("call-42");
        response.Headers.Should().ContainKey("X-Duration-Seconds");
        var lines = text.Split('\n');
        lines[0].Should().Be("PATCH /inspect/a%2Fb?x=1&y=%20z&x=2", "the raw target goes to the function unchanged");
        lines.Should().Contain("X-Custom: value one");
        lines.Should().Contain("X-Call-Id: call-42");
        lines.Should().Contain("Content-Length: 8");
        lines.Should().Contain("Content-Type: application/json; charset=utf-8");
        lines.Should().Contain(line => line.StartsWith("X-Forwarded-For: 127.0.0.1", StringComparison.Ordinal));
        text.Should().EndWith("\n\nthe body");
    }

    [Fact(Timeout = 60_000)]
    public async Task The_function_sees_the_callers_Host_as_behind_the_of_watchdog_and_in_X_Forwarded_Host()
    {
        using var upstream = new HttpModeUpstream();
        upstream.Touch("gate");
        await using var watchdog = await ReadyAsync(upstream);

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(watchdog.Url, "/inspect"));
        request.Headers.Host = "shop.example.com:8443";
        using var response = await watchdog.Client.SendAsync(request);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n');

        lines.Should().Contain("Host: shop.example.com:8443");
        lines.Should().Contain("X-Forwarded-Host: shop.example.com:8443");
    }

    [Fact(Timeout = 60_000)]
    public async Task On_a_dual_stack_listener_the_function_sees_an_IPv4_caller_as_IPv4_in_X_Forwarded_For()
    {
        using var upstream = new HttpModeUpstream();
        upstream.Touch("gate");
        await using var watchdog = await TestWatchdog.StartAsync(upstream.Environment(), options => options with { BindAddress = "*" });
        var url = new Uri($"http://127.0.0.1:{watchdog.Url.Port.ToString(CultureInfo.InvariantCulture)}/inspect");
        (await Processes.EventuallyAsync(async () => await watchdog.Client.GetAsync(url) is { IsSuccessStatusCode: true }, Within)).Should().BeTrue();

        using var response = await watchdog.Client.GetAsync(url);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n');

        lines.Should().Contain("X-Forwarded-For: 127.0.0.1", "the listener sees the caller as ::ffff:127.0.0.1, and the gateway passes the IPv4 form too");
        lines.Should().Contain("X-Forwarded-Proto: http");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_streamed_response_arrives_before_the_function_has_finished_it()
    {
        using var upstream = new HttpModeUpstream();
        upstream.Touch("gate");
        await using var watchdog = await ReadyAsync(upstream);

        using var response = await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/stream"), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        // The function writes "second" only once the "go" file exists, and it is made only after
        // "first" arrived: a watchdog that held the answer back would never deliver "first".
        (await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20))).Should().Be("first");
        upstream.Touch("go");
        (await reader.ReadLineAsync()).Should().Be("second");
        (await reader.ReadToEndAsync()).Should().BeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task Exec_timeout_answers_504_cancels_the_upstream_request_and_the_process_lives_on()
    {
        using var upstream = new HttpModeUpstream();
        upstream.Touch("gate");
        await using var watchdog = await ReadyAsync(upstream, ("exec_timeout", "1s"));
        var pid = await watchdog.Client.GetStringAsync(new Uri(watchdog.Url, "/pid"));

        using var response = await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/slow"));

        response.StatusCode.Should().Be(HttpStatusCode.GatewayTimeout);
        response.Headers.GetValues("X-Watchdog-Reason").Should().Equal("exec-timeout");
        (await response.Content.ReadAsStringAsync()).Should().Contain("exec_timeout (1s)");
        (await Processes.EventuallyAsync(() => Task.FromResult(upstream.Has("slow-cancelled")), Within))
            .Should().BeTrue("the function sees its request's connection closed");
        (await watchdog.Client.GetStringAsync(new Uri(watchdog.Url, "/pid"))).Should().Be(pid, "the same process serves on");
    }

    [Fact(Timeout = 90_000)]
    public async Task A_process_that_exits_is_restarted_and_calls_get_503_with_a_reason_meanwhile()
    {
        using var upstream = new HttpModeUpstream();
        upstream.Touch("gate");
        await using var watchdog = await ReadyAsync(upstream);
        var pid = await watchdog.Client.GetStringAsync(new Uri(watchdog.Url, "/pid"));

        // Closed gate: the next process will not listen until the spec opens it again.
        upstream.Remove("gate");
        using (var crash = await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/exit")))
        {
            ((int)crash.StatusCode).Should().BeOneOf(502, 503);
        }

        (await Processes.EventuallyAsync(async () => await StatusAsync(watchdog, "/pid") == 503, Within)).Should().BeTrue();
        using (var down = await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/pid")))
        {
            down.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            down.Headers.GetValues("X-Watchdog-Reason").Should().Equal("upstream-not-ready");
        }

        (await IsOkAsync(watchdog, "/_/health")).Should().BeFalse();
        (await Processes.EventuallyAsync(async () => (await BodyAsync(watchdog, "/_/health")).Contains("exited with code 3", StringComparison.Ordinal), Within))
            .Should().BeTrue("health says why");

        upstream.Touch("gate");
        (await Processes.EventuallyAsync(async () => await IsOkAsync(watchdog, "/_/health"), Within)).Should().BeTrue();
        (await watchdog.Client.GetStringAsync(new Uri(watchdog.Url, "/pid"))).Should().NotBe(pid, "a new process serves");
        Processes.IsAlive(int.Parse(pid, CultureInfo.InvariantCulture)).Should().BeFalse();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_function_that_ignores_sigterm_is_killed_after_kill_grace_when_the_watchdog_stops()
    {
        using var upstream = new HttpModeUpstream();
        upstream.Touch("gate");
        upstream.Touch("ignore-term");
        var watchdog = await ReadyAsync(upstream);
        var pid = int.Parse(await watchdog.Client.GetStringAsync(new Uri(watchdog.Url, "/pid")), CultureInfo.InvariantCulture);

        await watchdog.DisposeAsync();

        upstream.Has("term").Should().BeTrue("SIGTERM comes first");
        (await Processes.EventuallyAsync(() => !Processes.IsAlive(pid), TimeSpan.FromSeconds(10))).Should().BeTrue("SIGKILL follows after kill_grace");
    }

    [Fact(Timeout = 60_000)]
    public async Task Max_inflight_answers_429_while_the_slots_are_taken()
    {
        using var upstream = new HttpModeUpstream();
        upstream.Touch("gate");
        await using var watchdog = await ReadyAsync(upstream, ("max_inflight", "1"));

        var slow = watchdog.Client.GetAsync(new Uri(watchdog.Url, "/slow"));
        (await Processes.EventuallyAsync(() => Task.FromResult(upstream.Has("slow-started")), Within)).Should().BeTrue();
        using var rejected = await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/pid"));
        using var ready = await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/_/ready"));

        rejected.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        rejected.Headers.GetValues("X-Watchdog-Reason").Should().Equal("busy");
        ready.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        using var first = await slow;
        first.StatusCode.Should().Be(HttpStatusCode.OK);
        (await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/pid"))).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Theory(Timeout = 180_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_big_body_streams_through_an_echoing_upstream_in_constant_memory(bool withLength)
    {
        using var upstream = new HttpModeUpstream();
        upstream.Touch("gate");
        await using var watchdog = await ReadyAsync(upstream, ("read_timeout", "0"), ("write_timeout", "0"));
        const long size = 256L << 20;

        var (status, received, growth) = await PatternEcho.RunAsync(watchdog.Url, "/echo", size, chunked: !withLength);

        status.Should().Be(200);
        received.Should().Be(size);
        growth.Should().BeLessThan(64L * 1024 * 1024, "memory must not grow with the body size");
    }

    [Fact(Timeout = 60_000)]
    public async Task Buffered_request_bodies_reach_the_function_with_a_content_length()
    {
        using var upstream = new HttpModeUpstream();
        upstream.Touch("gate");
        await using var watchdog = await ReadyAsync(upstream, ("http_buffer_req_body", "true"));

        await using var client = await RawHttpClient.ConnectAsync(watchdog.Url);
        await client.SendHeadAsync("POST", "/inspect", null);
        await PatternEcho.SendChunkedAsync(client.Stream, 100_000);
        var (status, headers) = await client.ReadHeadAsync();
        var body = new MemoryStream();
        await client.ReadBodyAsync(headers, data => body.WriteAsync(data).AsTask());
        var text = Encoding.Latin1.GetString(body.ToArray());

        status.Should().Be(201);
        text.Should().Contain("Content-Length: 100000\n").And.NotContain("Transfer-Encoding");
    }

    internal static async Task<TestWatchdog> ReadyAsync(HttpModeUpstream upstream, params (string Name, string Value)[] extra)
    {
        var watchdog = await upstream.StartWatchdogAsync(extra);
        (await Processes.EventuallyAsync(async () => await IsOkAsync(watchdog, "/_/ready"), Within)).Should().BeTrue("the upstream should become ready");
        return watchdog;
    }

    private static async Task<bool> IsOkAsync(TestWatchdog watchdog, string path) => await StatusAsync(watchdog, path) == 200;

    private static async Task<int> StatusAsync(TestWatchdog watchdog, string path)
    {
        using var response = await watchdog.Client.GetAsync(new Uri(watchdog.Url, path));
        return (int)response.StatusCode;
    }

    private static async Task<string> BodyAsync(TestWatchdog watchdog, string path)
    {
        using var response = await watchdog.Client.GetAsync(new Uri(watchdog.Url, path));
        return await response.Content.ReadAsStringAsync();
    }
}
