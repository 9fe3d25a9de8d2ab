namespace Fwatchdog.Tests.Specs;

/// <summary>
/// docs/async.md, "The status API": a call's status lists every attempt (its history), oldest
/// first, on both queues, and keeps it through a replay; and a replay is admitted like a new call
/// ("Bounds on queued work"). Each spec names its own functions, since the NATS variant shares
/// one server (and its bucket) across the class.
/// </summary>
public abstract class AsyncHistorySpecs : QueueBackendSpecs
{
    private static string NewName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    private static JsonElement[] History(JsonElement status) => status.GetProperty("history").EnumerateArray().ToArray();

    private static DateTimeOffset Time(JsonElement element, string name) =>
        DateTimeOffset.Parse(element.GetProperty(name).GetString() ?? "", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>An attempt's number, status and error (null when absent), and whether it has ended.</summary>
    private static (int Attempt, int? Status, string? Error, bool Finished) Summary(JsonElement attempt) => (
        attempt.GetProperty("attempt").GetInt32(),
        attempt.TryGetProperty("statusCode", out var status) ? status.GetInt32() : null,
        attempt.TryGetProperty("error", out var error) ? error.GetString() : null,
        attempt.TryGetProperty("finishedAt", out _));

    [Fact(Timeout = 60_000)]
    public async Task A_call_that_fails_twice_then_succeeds_shows_its_three_attempts_oldest_first_and_the_listing_shows_the_same()
    {
        var name = NewName("flaky");
        var answered = 0;
        await using var function = await TestUpstream.StartAsync((context, _) =>
        {
            context.Response.StatusCode = Interlocked.Increment(ref answered) switch { 1 => 503, 2 => 502, _ => 200 };
            return context.Response.WriteAsync("done");
        });
        await using var gateway = await StartAsync(TestGateway.Stack((name, function.Url)));
        using var accepted = await gateway.PostAsync("/async-function/" + name, "x");
        var callId = accepted.Headers.GetValues("X-Call-Id").Single();

        var status = await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(20), "succeeded");
        status.GetProperty("attempts").GetInt32().Should().Be(3);
        var history = History(status);
        history.Select(Summary).Should().Equal(
            (1, 503, "function answered 503", true),
            (2, 502, "function answered 502", true),
            (3, 200, null, true));
        var times = history.SelectMany(a => new[] { Time(a, "startedAt"), Time(a, "finishedAt") }).ToArray();
        times.Should().BeInAscendingOrder("each attempt starts after the one before it ended");
        times[0].Should().BeOnOrAfter(Time(status, "createdAt"));
        times[^1].Should().Be(Time(status, "finishedAt"), "the last attempt ended the call");

        using var listing = await gateway.Client.GetAsync($"/async-calls?function={name}");
        var listed = (await listing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("calls").EnumerateArray().Single();
        listed.GetProperty("history").GetRawText().Should().Be(status.GetProperty("history").GetRawText(), "a listed call is the same JSON as its status");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_replayed_call_keeps_its_earlier_attempts_and_numbers_on_from_them()
    {
        var name = NewName("dead");
        var healthy = false;
        await using var function = await TestUpstream.StartAsync((context, _) =>
        {
            context.Response.StatusCode = Volatile.Read(ref healthy) ? 200 : 503;
            return Task.CompletedTask;
        });
        await using var gateway = await StartAsync(TestGateway.Stack((name, $$"""{ "upstream": "{{function.Url}}", "max_attempts": 2 }""")));
        using var accepted = await gateway.PostAsync("/async-function/" + name, "x");
        var callId = accepted.Headers.GetValues("X-Call-Id").Single();
        var dead = await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(20), "dead");
        dead.GetProperty("error").GetString().Should().StartWith("gave up after 2 attempts");
        History(dead).Select(Summary).Should().Equal(
            new (int, int?, string?, bool)[] { (1, 503, "function answered 503", true), (2, 503, "function answered 503", true) },
            "each attempt says why it failed, not why the call was given up");

        Volatile.Write(ref healthy, true);
        using var replay = await gateway.Client.PostAsync(TestGateway.StatusOf(callId) + "/retry", null);
        replay.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var succeeded = await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(20), "succeeded");
        succeeded.GetProperty("attempts").GetInt32().Should().Be(1, "a replay runs from attempt 1 of max_attempts");
        var history = History(succeeded);
        history.Select(Summary).Should().Equal((1, 503, "function answered 503", true), (2, 503, "function answered 503", true), (3, 200, null, true));
        history[..2].Select(a => a.GetRawText()).Should().Equal(History(dead).Select(a => a.GetRawText()), "the attempts before the replay are kept as they were");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_running_attempt_has_no_end_until_it_ends_and_a_cancelled_one_says_so()
    {
        var name = NewName("slow");
        var release = new TaskCompletionSource();
        await using var function = await TestUpstream.StartAsync(async (_, _) => await release.Task);
        await using var gateway = await StartAsync(TestGateway.Stack((name, function.Url)));
        using var accepted = await gateway.PostAsync("/async-function/" + name, "x");
        var callId = accepted.Headers.GetValues("X-Call-Id").Single();
        await function.NextAsync(TimeSpan.FromSeconds(20));

        var running = await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(5), "running");
        var attempt = History(running).Should().ContainSingle().Subject;
        attempt.EnumerateObject().Select(p => p.Name).Should().Equal("attempt", "startedAt");
        Time(attempt, "startedAt").Should().Be(Time(running, "startedAt"));

        using var cancel = await gateway.Client.DeleteAsync(TestGateway.StatusOf(callId));
        cancel.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var cancelled = await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(5), "cancelled");
        History(cancelled).Select(Summary).Should().Equal((1, null, "cancelled", true));
        release.SetResult();
    }

    [Fact(Timeout = 120_000)]
    public async Task The_attempt_of_a_killed_gateway_is_recorded_as_lease_expired_when_another_takes_the_call_over()
    {
        var name = NewName("work");
        var first = new TaskCompletionSource();
        await using var function = await TestUpstream.StartAsync(async (context, _) =>
        {
            // The first attempt never answers: its gateway is killed while it waits.
            if (first.TrySetResult())
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }

            await context.Response.WriteAsync("done");
        });
        await AfterKillingTheFirstAttemptAsync(TestGateway.Stack((name, function.Url)), name, first.Task, async (gateway, callId) =>
        {
            var status = await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(30), "succeeded");
            var history = History(status);
            history.Select(Summary).Should().Equal((1, null, "lease expired", true), (2, 200, null, true));
            Time(history[0], "finishedAt").Should().BeOnOrBefore(Time(history[1], "startedAt"));
        });
    }

    [Fact(Timeout = 120_000)]
    public async Task A_killed_last_attempt_stays_the_last_in_the_history_when_the_call_is_given_up()
    {
        var name = NewName("last");
        var first = new TaskCompletionSource();
        await using var function = await TestUpstream.StartAsync(async (context, _) =>
        {
            first.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        });
        var stack = TestGateway.Stack((name, $$"""{ "upstream": "{{function.Url}}", "max_attempts": 1 }"""));
        await AfterKillingTheFirstAttemptAsync(stack, name, first.Task, async (gateway, callId) =>
        {
            var status = await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(30), "dead");
            status.GetProperty("error").GetString().Should().Be("the gateway running the last attempt stopped before it ended");
            History(status).Select(Summary).Should().Equal(
                new (int, int?, string?, bool)[] { (1, null, "lease expired", true) },
                "no attempt ran after the killed one, so none is listed");
        });
    }

    /// <summary>
    /// Accepts a call on a gateway process with a 1 s lease, SIGKILLs it once the function has the
    /// first attempt (<paramref name="firstAttempt"/>), then runs <paramref name="check"/> on a
    /// gateway started on the same data.
    /// </summary>
    private async Task AfterKillingTheFirstAttemptAsync(string stack, string name, Task firstAttempt, Func<TestGateway, string, Task> check)
    {
        var folder = Directory.CreateTempSubdirectory("fwatchdog-history-").FullName;
        var settings = Backend();
        settings["queue_lease"] = "1s";
        try
        {
            var environment = TestGateway.ProcessEnvironment(folder, stack);
            foreach (var (key, value) in settings)
            {
                environment[key] = value;
            }

            string callId;
            await using (var killed = WatchdogProcess.Start(environment, ["gateway"]))
            {
                await killed.WaitUntilListeningAsync();
                using var client = new HttpClient { BaseAddress = killed.Url, Timeout = TimeSpan.FromSeconds(10) };
                using var accepted = await client.PostAsync("/async-function/" + name, new StringContent("x"));
                accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
                callId = TestGateway.Remember(accepted);
                await firstAttempt.WaitAsync(TimeSpan.FromSeconds(20));
                killed.Signal(Fwatchdog.Native.Libc.SIGKILL);
                await killed.WaitForExitAsync(TimeSpan.FromSeconds(10));
            }

            await using var gateway = await TestGateway.StartAsync(stack, settings, dataDir: folder);
            await check(gateway, callId);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task An_error_a_function_makes_as_long_as_it_likes_is_stored_cut_to_512_characters()
    {
        var name = NewName("loud");
        var reason = new string('r', 32 * 1024);
        await using var function = await TestUpstream.StartAsync((context, _) =>
        {
            context.Response.StatusCode = 503;
            context.Response.Headers["X-Watchdog-Reason"] = reason;
            return Task.CompletedTask;
        });
        await using var gateway = await StartAsync(TestGateway.Stack((name, $$"""{ "upstream": "{{function.Url}}", "max_attempts": 2 }""")));
        using var accepted = await gateway.PostAsync("/async-function/" + name, "x");
        var callId = accepted.Headers.GetValues("X-Call-Id").Single();

        var status = await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(20), "dead");
        var errors = History(status).Select(a => a.GetProperty("error").GetString() ?? "").Append(status.GetProperty("error").GetString() ?? "").ToArray();
        errors.Should().HaveCount(3);
        errors.Should().AllSatisfy(error =>
        {
            error.Length.Should().BeLessThanOrEqualTo(512);
            error.Should().EndWith("rr…", "the cut is marked");
        });
        errors[0].Should().StartWith("function answered 503 (rrr");
    }

    [Fact(Timeout = 60_000)]
    public async Task Replaying_one_call_into_a_full_queue_is_429_with_the_reason_and_the_call_stays_dead_to_replay_later()
    {
        var name = NewName("bounded");
        var healthy = false;
        var release = new TaskCompletionSource();
        await using var function = await TestUpstream.StartAsync(async (context, request) =>
        {
            if (request.Text == "blocker")
            {
                await release.Task;
            }
            else if (!Volatile.Read(ref healthy))
            {
                context.Response.StatusCode = 503;
            }
        });
        await using var gateway = await StartAsync(TestGateway.Stack((name, $$"""{ "upstream": "{{function.Url}}", "max_attempts": 1, "max_queued": 1 }""")));
        using var accepted = await gateway.PostAsync("/async-function/" + name, "x");
        var callId = accepted.Headers.GetValues("X-Call-Id").Single();
        await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(20), "dead");

        // On NATS a dead call leaves the work stream (where max_queued counts) just after its state is written.
        using var blocker = await WhenAsync(() => gateway.PostAsync("/async-function/" + name, "blocker"), r => r.StatusCode == HttpStatusCode.Accepted);
        blocker.StatusCode.Should().Be(HttpStatusCode.Accepted);
        await gateway.WaitForStateAsync(blocker.Headers.GetValues("X-Call-Id").Single(), TimeSpan.FromSeconds(20), "running");

        Volatile.Write(ref healthy, true);
        using (var refused = await gateway.Client.PostAsync(TestGateway.StatusOf(callId) + "/retry", null))
        {
            refused.StatusCode.Should().Be(HttpStatusCode.TooManyRequests, "the function's one queued call is running");
            refused.Headers.RetryAfter.Should().NotBeNull();
            refused.Headers.GetValues("X-Gateway-Reason").Should().Equal("queue_full");
            (await refused.Content.ReadAsStringAsync()).Should().Contain("max_queued is 1");
        }

        (await gateway.Client.GetFromJsonAsync<JsonElement>(TestGateway.StatusOf(callId))).GetProperty("state").GetString().Should().Be("dead", "a refused replay changes nothing");
        release.SetResult();
        using var replay = await WhenAsync(() => gateway.Client.PostAsync(TestGateway.StatusOf(callId) + "/retry", null), r => r.StatusCode != HttpStatusCode.TooManyRequests);
        replay.StatusCode.Should().Be(HttpStatusCode.Accepted, "the blocker finished, so there is room again");
        await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(20), "succeeded");
    }

    /// <summary>Sends until <paramref name="done"/> holds (at most 10 s); returns the last answer.</summary>
    private static async Task<HttpResponseMessage> WhenAsync(Func<Task<HttpResponseMessage>> send, Func<HttpResponseMessage, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var response = await send();
            if (done(response) || DateTime.UtcNow > deadline)
            {
                return response;
            }

            response.Dispose();
            await Task.Delay(50);
        }
    }
}

/// <summary>The same specs against the embedded SQLite queue.</summary>
public sealed class AsyncHistorySpecsOnSqlite : AsyncHistorySpecs
{
    private protected override Dictionary<string, string> Backend() => [];

    [Fact(Timeout = 60_000)]
    public async Task A_database_made_before_histories_gets_the_column_at_the_next_start_and_records_from_then_on()
    {
        await using var function = await TestUpstream.StartAsync();
        var folder = Directory.CreateTempSubdirectory("fwatchdog-gw-").FullName;
        try
        {
            string old;
            await using (var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)), dataDir: folder))
            {
                using var accepted = await gateway.PostAsync("/async-function/echo", "old");
                old = accepted.Headers.GetValues("X-Call-Id").Single();
                await gateway.WaitForStateAsync(old, TimeSpan.FromSeconds(20), "succeeded");
            }

            var database = "Data Source=" + Path.Combine(folder, "data", "queue.db") + ";Mode=ReadWrite;Pooling=False";
            await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(database))
            {
                await connection.OpenAsync();
                await using var drop = connection.CreateCommand();
                drop.CommandText = "ALTER TABLE jobs DROP COLUMN history";
                await drop.ExecuteNonQueryAsync();
            }

            await using (var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)), dataDir: folder))
            {
                var before = await gateway.Client.GetFromJsonAsync<JsonElement>(TestGateway.StatusOf(old));
                before.GetProperty("history").GetArrayLength().Should().Be(0, "a call that ran before histories has none recorded");
                before.GetProperty("attempts").GetInt32().Should().Be(1);
                using var accepted = await gateway.PostAsync("/async-function/echo", "new");
                var fresh = await gateway.WaitForStateAsync(accepted.Headers.GetValues("X-Call-Id").Single(), TimeSpan.FromSeconds(20), "succeeded");
                fresh.GetProperty("history").EnumerateArray().Select(a => a.GetProperty("statusCode").GetInt32()).Should().Equal(200);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

/// <summary>The same specs against NATS JetStream (a real nats-server).</summary>
public sealed class AsyncHistorySpecsOnNats(NatsServer nats) : AsyncHistorySpecs, IClassFixture<NatsServer>
{
    private protected override Dictionary<string, string> Backend() => nats.Settings();
}
