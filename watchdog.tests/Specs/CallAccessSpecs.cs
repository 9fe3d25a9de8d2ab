using System.Net.Http.Headers;

namespace Fwatchdog.Tests.Specs;

/// <summary>
/// docs/security.md, "Async calls": a call is read, cancelled and replayed by whoever holds the
/// status URL its 202 gave (or the operator's credentials), never by someone who knows or guesses
/// its id; an Idempotency-Key never hands one caller another's call.
/// </summary>
public abstract class CallAccessSpecs : QueueBackendSpecs
{
    private const string Unknown = "no async call";

    [Fact(Timeout = 60_000)]
    public async Task A_call_id_alone_opens_nothing_even_one_the_caller_chose()
    {
        var release = new TaskCompletionSource();
        await using var function = await TestUpstream.StartAsync(async (context, request) =>
        {
            await release.Task;
            await context.Response.Body.WriteAsync(request.Body);
        });
        await using var gateway = await StartAsync(TestGateway.Stack(("echo", function.Url)));
        using var owner = await gateway.PostAsync("/async-function/echo", "mine", ("X-Call-Id", "job-1"));
        owner.StatusCode.Should().Be(HttpStatusCode.Accepted);
        await function.NextAsync();

        using var stranger = new HttpClient { BaseAddress = gateway.Url };
        foreach (var (method, path) in new[] { ("GET", ""), ("GET", "/result"), ("DELETE", ""), ("POST", "/retry") })
        {
            using var bare = await stranger.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/async-calls/job-1" + path));
            bare.StatusCode.Should().Be(HttpStatusCode.Unauthorized, $"{method} /async-calls/job-1{path} names the call by its id alone");
            (await bare.Content.ReadAsStringAsync()).Should().NotContain("mine").And.NotContain("running");

            using var guessed = await stranger.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/async-calls/job-1~AAAAAAAAAAAAAAAAAAAAAA" + path));
            using var nothing = await stranger.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/async-calls/no-such-job~AAAAAAAAAAAAAAAAAAAAAA" + path));
            guessed.StatusCode.Should().Be(HttpStatusCode.NotFound, "a wrong token is answered as an unknown call");
            nothing.StatusCode.Should().Be(HttpStatusCode.NotFound);
            (await guessed.Content.ReadAsStringAsync()).Replace("job-1", "ID").Should().Be((await nothing.Content.ReadAsStringAsync()).Replace("no-such-job", "ID"),
                "nobody learns which ids exist");

            using var header = new HttpRequestMessage(new HttpMethod(method), "/async-calls/job-1" + path);
            header.Headers.Add("X-Call-Token", "AAAAAAAAAAAAAAAAAAAAAA");
            (await stranger.SendAsync(header)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        }

        release.SetResult();
        var status = await gateway.WaitForStateAsync("job-1", TimeSpan.FromSeconds(20), "succeeded", "cancelled", "failed", "dead");
        status.GetProperty("state").GetString().Should().Be("succeeded", "no stranger's DELETE reached the call");
        (await gateway.Client.GetStringAsync(TestGateway.StatusOf("job-1") + "/result")).Should().Contain("mine");
        function.All.Should().HaveCount(1, "no stranger's retry queued it again");
    }

    [Fact(Timeout = 30_000)]
    public async Task The_202_Location_opens_the_call_and_so_does_its_token_in_X_Call_Token()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack(("echo", function.Url)));
        using var accepted = await gateway.PostAsync("/async-function/echo", "hello");
        var callId = accepted.Headers.GetValues("X-Call-Id").Single();
        var location = accepted.Headers.Location!.OriginalString;
        var body = await accepted.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("status").GetString().Should().Be(location);

        var status = await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(20), "succeeded");
        status.GetProperty("result").GetString().Should().Be(location + "/result", "the result link opens the call the same way");

        using var stranger = new HttpClient { BaseAddress = gateway.Url };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/async-calls/{callId}/result");
        request.Headers.Add("X-Call-Token", location[(location.IndexOf('~') + 1)..]);
        using var result = await stranger.SendAsync(request);
        result.StatusCode.Should().Be(HttpStatusCode.OK);
        (await result.Content.ReadAsStringAsync()).Should().Contain("hello");
    }

    [Fact(Timeout = 30_000)]
    public async Task An_Idempotency_Key_reused_with_another_body_is_422_and_never_returns_the_first_call()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack(("echo", function.Url), ("other", function.Url)));
        using var first = await gateway.PostAsync("/async-function/echo", "theirs", ("Idempotency-Key", "order-17"));
        var firstId = first.Headers.GetValues("X-Call-Id").Single();

        using var reused = await gateway.PostAsync("/async-function/echo", "mine", ("Idempotency-Key", "order-17"));
        reused.StatusCode.Should().Be((HttpStatusCode)422);
        reused.Headers.GetValues("X-Gateway-Reason").Should().Equal("idempotency_key_reused");
        var refusal = await reused.Content.ReadAsStringAsync();
        refusal.Should().Contain("Idempotency-Key").And.NotContain(firstId);
        reused.Headers.Location.Should().BeNull();
        reused.Headers.GetValues("X-Call-Id").Should().NotContain(firstId);

        using var retried = await gateway.PostAsync("/async-function/echo", "theirs", ("Idempotency-Key", "order-17"));
        retried.StatusCode.Should().Be(HttpStatusCode.Accepted, "the same request again is the retry the key is for");
        retried.Headers.Location.Should().Be(first.Headers.Location, "a retry after a lost 202 needs the Location that opens the call");

        using var otherCaller = await gateway.PostAsync("/async-function/echo", "theirs", ("Idempotency-Key", "order-17"), ("Authorization", "Bearer someone-else"));
        otherCaller.StatusCode.Should().Be((HttpStatusCode)422, "a replay hands out the status URL: it needs the credentials the call came with");

        using var elsewhere = await gateway.PostAsync("/async-function/other", "mine", ("Idempotency-Key", "order-17"));
        elsewhere.StatusCode.Should().Be(HttpStatusCode.Accepted, "keys are scoped by function");
        elsewhere.Headers.GetValues("X-Call-Id").Single().Should().NotBe(firstId);

        await gateway.WaitForStateAsync(firstId, TimeSpan.FromSeconds(20), "succeeded");
        await gateway.WaitForStateAsync(elsewhere.Headers.GetValues("X-Call-Id").Single(), TimeSpan.FromSeconds(20), "succeeded");
        function.All.Select(r => r.Text).Should().BeEquivalentTo(["theirs", "mine"], "the 422 queued nothing");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_stranger_reusing_a_queued_calls_id_or_key_leaves_its_stored_body_intact()
    {
        var release = new TaskCompletionSource();
        await using var function = await TestUpstream.StartAsync(async (context, request) =>
        {
            await release.Task;
            await context.Response.Body.WriteAsync(request.Body);
        });
        await using var gateway = await StartAsync(TestGateway.Stack(("echo", function.Url)), new Dictionary<string, string> { ["queue_workers"] = "1" });
        using var blocker = await gateway.PostAsync("/async-function/echo", "first");
        await function.NextAsync();
        var mine = new string('m', 200_000);
        using var owner = await gateway.PostAsync("/async-function/echo", mine, ("X-Call-Id", "big-1"), ("Idempotency-Key", "big-key"));
        owner.StatusCode.Should().Be(HttpStatusCode.Accepted);

        using var taken = await gateway.PostAsync("/async-function/echo", new string('x', 300_000), ("X-Call-Id", "big-1"));
        taken.StatusCode.Should().Be(HttpStatusCode.Conflict);
        using var replayed = await gateway.PostAsync("/async-function/echo", mine, ("X-Call-Id", "big-1"), ("Idempotency-Key", "big-key"));
        replayed.StatusCode.Should().Be(HttpStatusCode.Accepted);
        replayed.Headers.GetValues("Idempotency-Replayed").Should().Equal("true");

        release.SetResult();
        (await gateway.WaitForStateAsync("big-1", TimeSpan.FromSeconds(30), "succeeded", "failed", "dead")).GetProperty("state").GetString().Should().Be("succeeded");
        (await gateway.Client.GetStringAsync(TestGateway.StatusOf("big-1") + "/result")).Should().Be(mine, "the call ran with the body its owner sent");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_parent_id_taken_after_the_child_was_queued_opens_nothing()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack(("echo", function.Url)));
        using var child = await gateway.PostAsync("/async-function/echo", "mine", ("X-Parent-Call-Id", "order-42"));
        var childId = child.Headers.GetValues("X-Call-Id").Single();
        await gateway.WaitForStateAsync(childId, TimeSpan.FromSeconds(20), "succeeded");

        using var squatter = await gateway.PostAsync("/async-function/echo", "theirs", ("X-Call-Id", "order-42"));
        squatter.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var squatterToken = squatter.Headers.Location!.OriginalString.Split('~')[1];
        using var stranger = new HttpClient { BaseAddress = gateway.Url };
        (await stranger.GetAsync($"/async-calls/{childId}~{squatterToken}/result")).StatusCode.Should().Be(HttpStatusCode.NotFound,
            "a parent made after the child does not open it");
    }

    [Fact(Timeout = 30_000)]
    public async Task The_status_never_shows_the_callback_url()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var receiver = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack(("echo", function.Url)),
            new Dictionary<string, string> { ["callback_allowed_hosts"] = "127.0.0.1" });
        using var accepted = await gateway.PostAsync("/async-function/echo", "x", ("X-Callback-Url", receiver.Url + "done?secret=s3cr3t"));
        accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var callId = accepted.Headers.GetValues("X-Call-Id").Single();

        var callback = await gateway.WaitForCallbackAsync(callId, TimeSpan.FromSeconds(20), "delivered");
        callback.GetProperty("state").GetString().Should().Be("delivered");
        var text = await gateway.Client.GetStringAsync(TestGateway.StatusOf(callId));
        text.Should().NotContain("s3cr3t").And.NotContain("/done").And.NotContain(receiver.Url.Authority);
    }

    [Fact(Timeout = 30_000)]
    public async Task With_basic_auth_the_operator_opens_any_call_by_its_id_and_nobody_else_does()
    {
        var secrets = Directory.CreateTempSubdirectory("fwatchdog-secrets-").FullName;
        await File.WriteAllTextAsync(Path.Combine(secrets, "basic-auth-user"), "admin\n");
        await File.WriteAllTextAsync(Path.Combine(secrets, "basic-auth-password"), "pa55\n");
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack(("echo", function.Url)),
            new Dictionary<string, string> { ["basic_auth"] = "true", ["secret_mount_path"] = secrets });
        using var accepted = await gateway.PostAsync("/async-function/echo", "x");
        var callId = accepted.Headers.GetValues("X-Call-Id").Single();
        await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(20), "succeeded");

        using var stranger = new HttpClient { BaseAddress = gateway.Url };
        using (var anonymous = await stranger.GetAsync($"/async-calls/{callId}"))
        {
            anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            anonymous.Headers.WwwAuthenticate.ToString().Should().Be("Basic realm=\"Restricted\"");
        }

        foreach (var (credentials, expected) in new[] { ("admin:nope", HttpStatusCode.Unauthorized), ("admin:pa55", HttpStatusCode.OK) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/async-calls/{callId}/result");
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
            (await stranger.SendAsync(request)).StatusCode.Should().Be(expected, credentials);
        }
    }
}

/// <summary>The same specs against the embedded SQLite queue.</summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class CallAccessSpecsOnSqlite : CallAccessSpecs
{
    private protected override Dictionary<string, string> Backend() => [];
}

/// <summary>The same specs against NATS JetStream (a real nats-server).</summary>
public sealed class CallAccessSpecsOnNats(NatsServer nats) : CallAccessSpecs, IClassFixture<NatsServer>
{
    private protected override Dictionary<string, string> Backend() => nats.Settings();

    [Fact(Timeout = 60_000)]
    public async Task With_NATS_down_the_status_API_answers_503_with_Retry_After_at_once_instead_of_hanging()
    {
        await using var own = new NatsServer();
        await using var function = await TestUpstream.StartAsync();
        var settings = own.Settings();
        settings["write_timeout"] = "60s";
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)), settings);
        using var accepted = await gateway.PostAsync("/async-function/echo", "x");
        var callId = accepted.Headers.GetValues("X-Call-Id").Single();
        await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(20), "succeeded");

        own.Stop();
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Delete })
        {
            var clock = Stopwatch.StartNew();
            using var answer = await gateway.Client.SendAsync(new HttpRequestMessage(method, TestGateway.StatusOf(callId)));
            answer.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, method.Method);
            answer.Headers.RetryAfter.Should().NotBeNull();
            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(15), "a caller hears of the outage instead of waiting out write_timeout (60 s)");
        }

        own.Start();
        await Processes.EventuallyAsync(async () => (await gateway.Client.GetAsync(TestGateway.StatusOf(callId))).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30));
        (await gateway.Client.GetAsync(TestGateway.StatusOf(callId))).StatusCode.Should().Be(HttpStatusCode.OK, "the status API heals when NATS is back");
    }
}
