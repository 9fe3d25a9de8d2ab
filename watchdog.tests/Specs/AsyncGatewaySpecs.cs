using System.Security.Cryptography;

namespace Fwatchdog.Tests.Specs;

/// <summary>Queued calls on /async-function/{name}: accept, run, retry, call back, report status, cancel.</summary>
public abstract class AsyncGatewaySpecs : QueueBackendSpecs
{
    [Fact(Timeout = 30_000)]
    public async Task Accepted_call_replays_the_original_request_and_calls_back_with_the_result()
    {
        await using var function = await TestUpstream.StartAsync(async (context, request) =>
        {
            context.Response.ContentType = "text/x-result";
            await context.Response.WriteAsync("result:" + request.Text);
        });
        await using var receiver = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack(("echo", function.Url)));

        using var accepted = await gateway.PostAsync("/async-function/echo/sub%2Fpath?x=1", "payload",
            ("X-Callback-Url", receiver.Url + "done"), ("X-Custom", "kept"), ("Authorization", "Bearer secret"), ("Cookie", "a=b"));

        accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var callId = accepted.Headers.GetValues("X-Call-Id").Single();
        accepted.Headers.Location?.OriginalString.Should().MatchRegex($"^/async-calls/{callId}~[A-Za-z0-9_-]{{22}}$", "the Location opens the call: its id and a 128-bit token");
        var body = await accepted.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("callId").GetString().Should().Be(callId);

        var call = await function.NextAsync();
        call.Method.Should().Be("POST");
        call.RawTarget.Should().Be("/sub%2Fpath?x=1");
        call.Text.Should().Be("payload");
        call.Header("X-Call-Id").Should().Be(callId);
        call.Header("X-Attempt").Should().Be("1");
        call.Header("X-Custom").Should().Be("kept");
        call.Headers.Keys.Should().NotContain(["Authorization", "Cookie"], "credentials are not stored in the queue by default");

        var callback = await receiver.NextAsync();
        callback.Method.Should().Be("POST");
        callback.RawTarget.Should().Be("/done");
        callback.Text.Should().Be("result:payload");
        callback.Header("Content-Type").Should().Be("text/x-result");
        callback.Header("X-Call-Id").Should().Be(callId);
        callback.Header("X-Function-Name").Should().Be("echo");
        callback.Header("X-Function-Status").Should().Be("200");
        callback.Header("X-Job-State").Should().Be("succeeded");
        double.Parse(callback.Header("X-Duration-Seconds"), System.Globalization.CultureInfo.InvariantCulture).Should().BeGreaterThan(0);

        var status = await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(10), "succeeded");
        (await gateway.WaitForCallbackAsync(callId, TimeSpan.FromSeconds(10), "delivered")).GetProperty("attempts").GetInt32().Should().Be(1);
        status.GetProperty("attempts").GetInt32().Should().Be(1);
        status.GetProperty("statusCode").GetInt32().Should().Be(200);
        using var result = await gateway.Client.GetAsync(TestGateway.StatusOf(callId) + "/result");
        result.Content.Headers.ContentType?.MediaType.Should().Be("text/x-result");
        (await result.Content.ReadAsStringAsync()).Should().Be("result:payload");
    }

    [Fact(Timeout = 30_000)]
    public async Task Bad_submissions_are_refused_before_anything_is_queued()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack(("echo", function.Url)), new Dictionary<string, string>
        {
            ["async_max_body_bytes"] = "1KiB",
            ["callback_allowed_hosts"] = "127.0.0.1,*.example.com",
        });

        async Task Expect(HttpResponseMessage response, HttpStatusCode status, string reason)
        {
            using (response)
            {
                response.StatusCode.Should().Be(status, reason);
                response.Headers.GetValues("X-Gateway-Reason").Should().Equal(reason);
                (await response.Content.ReadAsStringAsync()).Should().NotBeEmpty();
            }
        }

        await Expect(await gateway.PostAsync("/async-function/nope", "x"), HttpStatusCode.NotFound, "function_not_found");
        using (var get = await gateway.Client.GetAsync("/async-function/echo"))
        {
            get.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
            get.Content.Headers.Allow.Should().Equal("POST");
        }

        await Expect(await gateway.PostAsync("/async-function/echo", "x", ("X-Callback-Url", "/relative")), HttpStatusCode.BadRequest, "callback_url_invalid");
        await Expect(await gateway.PostAsync("/async-function/echo", "x", ("X-Callback-Url", "ftp://127.0.0.1/x")), HttpStatusCode.BadRequest, "callback_url_invalid");
        await Expect(await gateway.PostAsync("/async-function/echo", "x", ("X-Callback-Url", "http://169.254.169.254/latest")), HttpStatusCode.BadRequest, "callback_host_not_allowed");
        await Expect(await gateway.PostAsync("/async-function/echo", new string('x', 2000)), HttpStatusCode.RequestEntityTooLarge, "body_too_large");
        using (var chunked = new HttpRequestMessage(HttpMethod.Post, "/async-function/echo") { Content = new StreamContent(new PatternStream(5000)) })
        {
            await Expect(await gateway.Client.SendAsync(chunked), HttpStatusCode.RequestEntityTooLarge, "body_too_large");
        }

        using var good = await gateway.PostAsync("/async-function/echo", "ok", ("X-Callback-Url", "http://hooks.example.com/x"));
        good.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await function.NextAsync()).Text.Should().Be("ok");
        await Task.Delay(300);
        function.All.Should().HaveCount(1, "only the good submission was queued");
    }

    [Fact(Timeout = 90_000)]
    public async Task Hundred_async_calls_to_a_real_watchdog_give_exactly_hundred_callbacks()
    {
        await using var watchdog = await TestWatchdog.StartAsync("cat");
        await using var receiver = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack(("cat", watchdog.Url)));
        var accepted = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();

        await Parallel.ForEachAsync(Enumerable.Range(0, 100), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            using var response = await gateway.PostAsync("/async-function/cat", $"job-{i}", ("X-Callback-Url", receiver.Url + "cb"));
            response.StatusCode.Should().Be(HttpStatusCode.Accepted);
            accepted[response.Headers.GetValues("X-Call-Id").Single()] = $"job-{i}";
        });

        var callbacks = await receiver.WaitForAsync(100, TimeSpan.FromSeconds(60));
        await Task.Delay(500);
        callbacks = receiver.All.ToList();
        callbacks.Should().HaveCount(100);
        callbacks.Select(c => c.Header("X-Call-Id")).Should().OnlyHaveUniqueItems().And.BeEquivalentTo(accepted.Keys);
        callbacks.Should().OnlyContain(c => c.Text == accepted[c.Header("X-Call-Id")] && c.Header("X-Function-Status") == "200");
    }

    [Fact(Timeout = 30_000)]
    public async Task Retryable_failures_are_retried_up_to_max_attempts_then_dead_lettered_with_one_callback()
    {
        await using var function = await TestUpstream.StartAsync((context, _) =>
        {
            context.Response.StatusCode = 503;
            return context.Response.WriteAsync("busy");
        });
        await using var receiver = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack(("flaky", function.Url)), new Dictionary<string, string> { ["max_attempts"] = "3" });

        using var accepted = await gateway.PostAsync("/async-function/flaky", "x", ("X-Callback-Url", receiver.Url + "cb"));
        var callId = accepted.Headers.GetValues("X-Call-Id").Single();

        var status = await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(20), "dead");
        status.GetProperty("attempts").GetInt32().Should().Be(3);
        status.GetProperty("statusCode").GetInt32().Should().Be(503);
        status.GetProperty("error").GetString().Should().Contain("gave up after 3 attempts");
        function.All.Select(r => r.Header("X-Attempt")).Should().Equal("1", "2", "3");
        var callback = await receiver.NextAsync();
        callback.Header("X-Function-Status").Should().Be("503");
        callback.Header("X-Job-State").Should().Be("dead");
        callback.Text.Should().Be("busy");
        await Task.Delay(300);
        receiver.All.Should().HaveCount(1);
    }

    [Fact(Timeout = 30_000)]
    public async Task Retry_After_from_the_function_is_honoured_and_a_4xx_is_not_retried()
    {
        var calls = 0;
        await using var function = await TestUpstream.StartAsync((context, request) =>
        {
            if (request.RawTarget == "/bad")
            {
                context.Response.StatusCode = 400;
                return Task.CompletedTask;
            }

            if (Interlocked.Increment(ref calls) == 1)
            {
                context.Response.StatusCode = 429;
                context.Response.Headers.RetryAfter = "1";
            }

            return Task.CompletedTask;
        });
        await using var gateway = await StartAsync(TestGateway.Stack(("limited", function.Url)), new Dictionary<string, string> { ["max_retry_wait"] = "5s" });

        using var accepted = await gateway.PostAsync("/async-function/limited", "x");
        var status = await gateway.WaitForStateAsync(accepted.Headers.GetValues("X-Call-Id").Single(), TimeSpan.FromSeconds(20), "succeeded");
        status.GetProperty("attempts").GetInt32().Should().Be(2);
        var attempts = function.All.ToList();
        (attempts[1].At - attempts[0].At).Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(900), "Retry-After: 1 outweighs the 50ms back-off");

        using var bad = await gateway.PostAsync("/async-function/limited/bad", "x");
        var failed = await gateway.WaitForStateAsync(bad.Headers.GetValues("X-Call-Id").Single(), TimeSpan.FromSeconds(20), "failed");
        failed.GetProperty("attempts").GetInt32().Should().Be(1);
        failed.GetProperty("statusCode").GetInt32().Should().Be(400);
    }
}

/// <summary>The same specs against the embedded SQLite queue.</summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class AsyncGatewaySpecsOnSqlite : AsyncGatewaySpecs
{
    private protected override Dictionary<string, string> Backend() => [];
}

/// <summary>The same specs against NATS JetStream (a real nats-server).</summary>
public sealed class AsyncGatewaySpecsOnNats(NatsServer nats) : AsyncGatewaySpecs, IClassFixture<NatsServer>
{
    private protected override Dictionary<string, string> Backend() => nats.Settings();
}
