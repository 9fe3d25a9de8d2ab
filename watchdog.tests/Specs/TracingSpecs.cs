namespace Fwatchdog.Tests.Specs;

/// <summary>
/// W3C Trace Context from the caller through the gateway and the watchdog into the function
/// process: TRACEPARENT, TRACESTATE and BAGGAGE in its environment, the headers in mode=http, the
/// trace id in the access line; a caller's malformed or oversized context goes no further.
/// </summary>
public sealed class TracingSpecs
{
    private const string Trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string CallerSpan = "00f067aa0ba902b7";
    private const string CallerParent = "00-" + Trace + "-" + CallerSpan + "-01";
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);

    [Fact(Timeout = 90_000)]
    public async Task A_sync_call_through_gateway_and_watchdog_gives_the_process_the_callers_trace_in_TRACEPARENT()
    {
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("env", """{ "fprocess": "env" }""")));
        (await Processes.EventuallyAsync(async () => (await gateway.Client.PostAsync("/function/env", new StringContent(""))).StatusCode == HttpStatusCode.OK, Within))
            .Should().BeTrue("the gateway starts the function's watchdog");

        using var response = await gateway.PostAsync("/function/env", "", ("traceparent", CallerParent), ("tracestate", "congo=t61rcWkgMzE"), ("baggage", "userId=alice"));
        var env = Variables(await response.Content.ReadAsStringAsync());

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        env["TRACEPARENT"].Should().MatchRegex($"^00-{Trace}-[0-9a-f]{{16}}-01$").And.NotContain(CallerSpan, "the process's parent is the watchdog's span, not the caller's");
        env["Http_Traceparent"].Should().Be(env["TRACEPARENT"], "templates that read the header variable join the same trace");
        env["TRACESTATE"].Should().Be("congo=t61rcWkgMzE");
        env["BAGGAGE"].Should().Be("userId=alice");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_call_without_a_trace_starts_one_and_the_process_is_in_it()
    {
        await using var watchdog = await TestWatchdog.StartAsync("env");

        var env = Variables(await watchdog.Client.GetStringAsync(watchdog.Url));

        env["TRACEPARENT"].Should().MatchRegex("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$");
        env.Should().NotContainKey("TRACESTATE").And.NotContainKey("BAGGAGE");
    }

    /// <summary>What a caller sends, and what of it the process may see; W3C rules in full are in TraceHeadersTests.</summary>
    [Theory(Timeout = 60_000)]
    [InlineData("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "congo=1", "k=v", false, null, null)]
    [InlineData(CallerParent + "-extra", "congo=1", "k=v", false, null, null)]
    [InlineData("ff-" + Trace + "-" + CallerSpan + "-01", "congo=1", "k=v", false, null, null)]
    [InlineData("00-" + Trace + "-0000000000000000-01", "congo=1", "k=v", false, null, null)]
    [InlineData(CallerParent, "congo=1,Bad Key=2,rojo=3", "k=v,bad value=1,j=w", true, "congo=1,rojo=3", "k=v,j=w")]
    [InlineData(CallerParent, "congo=1,congo=2", "k=\"quoted\"", true, null, null)]
    public async Task A_callers_malformed_trace_context_is_ignored_or_trimmed_never_passed_on(
        string traceParent, string traceState, string baggage, bool continued, string? stateSeen, string? baggageSeen)
    {
        await using var watchdog = await TestWatchdog.StartAsync("env");
        using var request = Traced(HttpMethod.Post, watchdog.Url, traceParent, traceState, baggage);

        using var response = await watchdog.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var env = Variables(text);

        response.StatusCode.Should().Be(HttpStatusCode.OK, "a bad trace header is never an error");
        env["TRACEPARENT"].Should().MatchRegex("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$");
        env["TRACEPARENT"].Should().Match(continued ? $"00-{Trace}-*" : "*", "a well-formed traceparent is continued");
        if (!continued)
        {
            env["TRACEPARENT"].Should().NotContain(Trace, "a malformed traceparent starts a new trace");
        }

        env.GetValueOrDefault("TRACESTATE").Should().Be(stateSeen);
        env.GetValueOrDefault("BAGGAGE").Should().Be(baggageSeen);
        env.GetValueOrDefault("Http_Tracestate").Should().Be(stateSeen);
        env.GetValueOrDefault("Http_Baggage").Should().Be(baggageSeen);
        text.Should().NotContain(traceParent == CallerParent ? "Bad Key" : traceParent, "malformed text reaches the process under no name");
    }

    [Fact(Timeout = 60_000)]
    public async Task An_oversized_tracestate_and_baggage_reach_the_process_trimmed_to_the_W3C_bounds()
    {
        await using var watchdog = await TestWatchdog.StartAsync("env");
        var state = string.Join(",", Enumerable.Range(0, 100).Select(i => $"k{i}=v"));
        var baggage = string.Join(",", Enumerable.Range(0, 100).Select(i => $"b{i}=v"));
        using var request = Traced(HttpMethod.Post, watchdog.Url, CallerParent, state, baggage);

        using var response = await watchdog.Client.SendAsync(request);
        var env = Variables(await response.Content.ReadAsStringAsync());

        env["TRACESTATE"].Split(',').Should().Equal(Enumerable.Range(0, 32).Select(i => $"k{i}=v"), "at most 32 members, the first ones");
        env["BAGGAGE"].Split(',').Should().Equal(Enumerable.Range(0, 64).Select(i => $"b{i}=v"), "at most 64 members, the first ones");
    }

    [Fact(Timeout = 60_000)]
    public async Task Mode_http_sends_the_function_one_traceparent_with_the_watchdogs_span_as_parent()
    {
        using var upstream = new HttpModeUpstream();
        upstream.Touch("gate");
        await using var watchdog = await upstream.StartWatchdogAsync();
        (await Processes.EventuallyAsync(async () => (await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/_/ready"))).StatusCode == HttpStatusCode.OK, Within)).Should().BeTrue();

        using var request = Traced(HttpMethod.Get, new Uri(watchdog.Url, "/inspect"), CallerParent, "congo=1,Bad Key=2", "userId=alice");
        using var response = await watchdog.Client.SendAsync(request);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n');

        var parents = lines.Where(l => l.StartsWith("traceparent:", StringComparison.OrdinalIgnoreCase)).ToList();
        parents.Should().ContainSingle().Which.Should().MatchRegex($"^[Tt]raceparent: 00-{Trace}-[0-9a-f]{{16}}-01$").And.NotContain(CallerSpan);
        lines.Where(l => l.StartsWith("tracestate:", StringComparison.OrdinalIgnoreCase)).Should().Equal("tracestate: congo=1");
        lines.Where(l => l.StartsWith("baggage:", StringComparison.OrdinalIgnoreCase)).Should().Equal("baggage: userId=alice");
    }

    [Fact(Timeout = 60_000)]
    public async Task The_access_line_names_the_trace_the_call_is_in()
    {
        await using var watchdog = WatchdogProcess.Start(new Dictionary<string, string>
        {
            ["fprocess"] = "cat",
            ["port"] = "0",
            ["bind_address"] = "127.0.0.1",
            ["metrics_port"] = "0",
            ["suppress_lock"] = "true",
        });
        await watchdog.WaitUntilListeningAsync();
        using var client = new HttpClient { BaseAddress = watchdog.Url };
        using var request = new HttpRequestMessage(HttpMethod.Post, watchdog.Url) { Content = new StringContent("hi") };
        request.Headers.TryAddWithoutValidation("traceparent", CallerParent);
        request.Headers.TryAddWithoutValidation("X-Call-Id", "traced-call");

        using var response = await client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await Processes.EventuallyAsync(() => watchdog.Output.Contains("call=traced-call", StringComparison.Ordinal), TimeSpan.FromSeconds(10))).Should().BeTrue(watchdog.Output);
        watchdog.Output.Split('\n').Single(l => l.Contains("call=traced-call", StringComparison.Ordinal)).TrimEnd().Should().EndWith($"reason=ok trace={Trace}");
    }

    [Fact(Timeout = 90_000)]
    public async Task With_export_on_a_sync_calls_spans_link_the_caller_the_gateway_the_watchdog_and_the_process()
    {
        var trace = ActivityTraceId.CreateRandom().ToHexString();
        var callerSpan = ActivitySpanId.CreateRandom().ToHexString();
        await using var collector = await OtlpSpans.StartCollectorAsync();
        var export = OtlpSpans.ExportTo(collector);
        var function = JsonSerializer.Serialize(new { fprocess = "env", environment = export });
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("env", function)), new Dictionary<string, string>(export) { ["OTEL_SERVICE_NAME"] = "gw" });
        (await Processes.EventuallyAsync(async () => (await gateway.Client.PostAsync("/function/env", new StringContent(""))).StatusCode == HttpStatusCode.OK, Within))
            .Should().BeTrue("the gateway starts the function's watchdog");

        using var response = await gateway.PostAsync("/function/env", "", ("traceparent", $"00-{trace}-{callerSpan}-01"));
        var env = Variables(await response.Content.ReadAsStringAsync());
        var spans = new List<OtlpSpan>();
        (await Processes.EventuallyAsync(() => (spans = OtlpSpans.Received(collector, trace)).Count >= 4, TimeSpan.FromSeconds(30))).Should().BeTrue(string.Join("\n", spans));

        spans.Should().HaveCount(4, string.Join("\n", spans));
        var gatewayServer = spans.Single(s => s.Service == "gw" && s.Kind == 2);
        gatewayServer.Should().Match<OtlpSpan>(s => s.Name == "POST /function/{name}" && s.ParentSpanId == callerSpan);
        gatewayServer.Attributes["faas.invoked_name"].Should().Be("env");
        var gatewayClient = spans.Single(s => s.Service == "gw" && s.Kind == 3);
        gatewayClient.ParentSpanId.Should().Be(gatewayServer.SpanId);
        var watchdog = spans.Single(s => s.Service == "env" && s.Kind == 2);
        watchdog.ParentSpanId.Should().Be(gatewayClient.SpanId);
        watchdog.Attributes["http.response.status_code"].Should().Be("200");
        var process = spans.Single(s => s.Name == "process");
        process.Should().Match<OtlpSpan>(s => s.Service == "env" && s.ParentSpanId == watchdog.SpanId);
        env["TRACEPARENT"].Should().Be($"00-{trace}-{process.SpanId}-01");
    }

    /// <summary>A request with the three trace headers, sent as given (unchecked).</summary>
    private static HttpRequestMessage Traced(HttpMethod method, Uri url, string traceParent, string traceState, string baggage)
    {
        var request = new HttpRequestMessage(method, url) { Content = method == HttpMethod.Get ? null : new StringContent("") };
        request.Headers.TryAddWithoutValidation("traceparent", traceParent);
        request.Headers.TryAddWithoutValidation("tracestate", traceState);
        request.Headers.TryAddWithoutValidation("baggage", baggage);
        return request;
    }

    /// <summary>The lines of `env`, by name.</summary>
    private static Dictionary<string, string> Variables(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains('=', StringComparison.Ordinal))
            .Select(l => l.Split('=', 2)).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Last()[1]);
}
