namespace Fwatchdog.Tests.Specs;

/// <summary>
/// An async call's trace: the context given at accept is stored with the call; every attempt, the
/// function it reaches and the callback are in that trace, and the status names it. With export
/// on, one call's spans reach an OTLP/HTTP receiver with the right parent and child links.
/// </summary>
public abstract class AsyncTracingSpecs : QueueBackendSpecs
{
    private const int Server = 2, Client = 3;

    [Fact(Timeout = 60_000)]
    public async Task An_async_calls_attempts_and_callback_carry_the_trace_id_given_at_accept()
    {
        var (trace, callerSpan) = NewCaller();
        var calls = 0;
        await using var function = await TestUpstream.StartAsync(async (context, request) =>
        {
            context.Response.StatusCode = Interlocked.Increment(ref calls) == 1 ? 503 : 200;
            await context.Response.WriteAsync("done");
        });
        await using var receiver = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack(("work", function.Url)));

        using var accepted = await gateway.PostAsync("/async-function/work", "payload",
            ("traceparent", $"00-{trace}-{callerSpan}-01"), ("tracestate", "congo=1"), ("X-Callback-Url", receiver.Url + "done"));
        var callId = TestGateway.Remember(accepted);
        (await gateway.WaitForCallbackAsync(callId, TimeSpan.FromSeconds(30), "delivered", "failed")).GetProperty("state").GetString().Should().Be("delivered");

        var attempts = function.All.ToList();
        attempts.Should().HaveCount(2, "the first attempt got 503 and was retried");
        var parents = attempts.Select(a => a.Header("traceparent")).ToList();
        parents.Should().AllSatisfy(p => p.Should().MatchRegex($"^00-{trace}-[0-9a-f]{{16}}-01$").And.NotContain(callerSpan));
        parents.Should().OnlyHaveUniqueItems("each attempt is a span of its own");
        attempts.Should().AllSatisfy(a => a.Header("tracestate").Should().Be("congo=1"));
        (await receiver.NextAsync()).Header("traceparent").Should().MatchRegex($"^00-{trace}-[0-9a-f]{{16}}-01$");
        var status = await gateway.Client.GetFromJsonAsync<JsonElement>(TestGateway.StatusOf(callId));
        status.GetProperty("traceId").GetString().Should().Be(trace);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_async_call_without_a_trace_gets_one_at_accept_that_its_status_and_attempt_share()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack(("work", function.Url)));

        using var accepted = await gateway.PostAsync("/async-function/work", "payload", ("traceparent", "00-not-a-trace"));
        var callId = TestGateway.Remember(accepted);
        await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(30), "succeeded");

        var status = await gateway.Client.GetFromJsonAsync<JsonElement>(TestGateway.StatusOf(callId));
        var trace = status.GetProperty("traceId").GetString();
        trace.Should().MatchRegex("^[0-9a-f]{32}$");
        (await function.NextAsync()).Header("traceparent").Should().MatchRegex($"^00-{trace}-[0-9a-f]{{16}}-01$");
    }

    [Fact(Timeout = 90_000)]
    public async Task With_export_on_one_calls_spans_reach_the_collector_with_their_parent_links()
    {
        var (trace, callerSpan) = NewCaller();
        await using var collector = await OtlpSpans.StartCollectorAsync();
        await using var receiver = await TestUpstream.StartAsync();
        var export = OtlpSpans.ExportTo(collector);
        var function = JsonSerializer.Serialize(new { fprocess = "env", environment = export });
        await using var gateway = await StartAsync(TestGateway.Stack(("env", function)), new Dictionary<string, string>(export) { ["OTEL_SERVICE_NAME"] = "gw" });

        using var accepted = await gateway.PostAsync("/async-function/env", "", ("traceparent", $"00-{trace}-{callerSpan}-01"), ("X-Callback-Url", receiver.Url + "done"));
        var callId = TestGateway.Remember(accepted);
        (await gateway.WaitForCallbackAsync(callId, TimeSpan.FromSeconds(60), "delivered", "failed")).GetProperty("state").GetString().Should().Be("delivered");
        var spans = new List<OtlpSpan>();
        var names = new[] { "POST /async-function/{name}", "queue wait", "attempt 1", "callback", "process" };
        (await Processes.EventuallyAsync(() =>
        {
            spans = OtlpSpans.Received(collector, trace);
            return names.All(n => spans.Any(s => s.Name == n)) && spans.Any(s => s.Service == "env" && s.Kind == Server) && spans.Any(s => s.Service == "gw" && s.Kind == Client && s.Name == "POST");
        }, TimeSpan.FromSeconds(30))).Should().BeTrue(string.Join("\n", spans));

        var accept = spans.Single(s => s.Name == "POST /async-function/{name}");
        accept.Should().Match<OtlpSpan>(s => s.Service == "gw" && s.Kind == Server && s.ParentSpanId == callerSpan, "the accept continues the caller's span");
        spans.Single(s => s.Name == "queue wait").ParentSpanId.Should().Be(accept.SpanId);
        var attempt = spans.Single(s => s.Name == "attempt 1");
        attempt.ParentSpanId.Should().Be(accept.SpanId, "an attempt is found from the accept, however late it runs");
        attempt.Attributes["fwatchdog.call_id"].Should().Be(callId);
        var upstream = spans.Single(s => s.Service == "gw" && s.Kind == Client && s.ParentSpanId == attempt.SpanId);
        var request = spans.Single(s => s.Service == "env" && s.Kind == Server);
        request.ParentSpanId.Should().Be(upstream.SpanId, "the function's watchdog continues the gateway's upstream call");
        var process = spans.Single(s => s.Name == "process");
        process.Should().Match<OtlpSpan>(s => s.Service == "env" && s.ParentSpanId == request.SpanId);
        process.Attributes["process.exit.code"].Should().Be("0");
        var callback = spans.Single(s => s.Name == "callback");
        callback.Should().Match<OtlpSpan>(s => s.Kind == Client && s.ParentSpanId == accept.SpanId);

        (await receiver.NextAsync()).Text.Should().Contain($"TRACEPARENT=00-{trace}-{process.SpanId}-01", "the process's parent is its own span");
        receiver.All.Single().Header("traceparent").Should().Be($"00-{trace}-{callback.SpanId}-01");
    }

    private static (string Trace, string Span) NewCaller() => (ActivityTraceId.CreateRandom().ToHexString(), ActivitySpanId.CreateRandom().ToHexString());
}

/// <summary>The same specs against the embedded SQLite queue.</summary>
public sealed class AsyncTracingSpecsOnSqlite : AsyncTracingSpecs
{
    private protected override Dictionary<string, string> Backend() => [];
}

/// <summary>The same specs against NATS JetStream (a real nats-server).</summary>
public sealed class AsyncTracingSpecsOnNats(NatsServer nats) : AsyncTracingSpecs, IClassFixture<NatsServer>
{
    private protected override Dictionary<string, string> Backend() => nats.Settings();
}
