using System.Net.Http.Headers;

namespace Fwatchdog.Tests.Specs;

/// <summary>
/// docs/async.md, "Finding calls": the operator lists calls (filters, newest first, cursor
/// paging), and replays dead calls or cancels queued ones in bulk; docs/security.md: these are
/// operator routes, and a listing is never a key to a call. Each spec names its own functions,
/// since the NATS variant shares one server (and its bucket) across the class.
/// </summary>
public abstract class AsyncListingSpecs : QueueBackendSpecs
{
    private static string NewName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    /// <summary>
    /// Accepts one call, in a millisecond of its own: a listing orders by the millisecond a call was
    /// accepted (ties in call-id order), so the specs' calls are in accept order only when no two share one.
    /// </summary>
    private protected static async Task<string> AcceptAsync(TestGateway gateway, string function, string body)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 0; i < 100 && DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() == now; i++)
        {
            await Task.Delay(1);
        }

        using var accepted = await gateway.PostAsync("/async-function/" + function, body);
        accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
        return accepted.Headers.GetValues("X-Call-Id").Single();
    }

    private protected static async Task<JsonElement> ListAsync(HttpClient client, string query)
    {
        using var response = await client.GetAsync("/async-calls" + query);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement;
    }

    private protected static string[] Ids(JsonElement page) => page.GetProperty("calls").EnumerateArray().Select(c => c.GetProperty("callId").GetString() ?? "").ToArray();

    [Fact(Timeout = 60_000)]
    public async Task The_listing_shows_calls_newest_first_each_as_its_status_shows_it_filtered_by_function_state_and_since()
    {
        var (good, bad) = (NewName("good"), NewName("bad"));
        await using var function = await TestUpstream.StartAsync((context, request) =>
        {
            context.Response.StatusCode = request.Text == "fail" ? 503 : 200;
            return context.Response.WriteAsync(request.Text);
        });
        await using var gateway = await StartAsync(TestGateway.Stack((good, $$"""{ "upstream": "{{function.Url}}" }"""), (bad, $$"""{ "upstream": "{{function.Url}}", "max_attempts": 1 }""")));
        var goodIds = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            goodIds.Add(await AcceptAsync(gateway, good, "ok " + i));
        }

        var badIds = new[] { await AcceptAsync(gateway, bad, "fail"), await AcceptAsync(gateway, bad, "fail") };
        foreach (var id in goodIds)
        {
            await gateway.WaitForStateAsync(id, TimeSpan.FromSeconds(20), "succeeded");
        }

        foreach (var id in badIds)
        {
            await gateway.WaitForStateAsync(id, TimeSpan.FromSeconds(20), "dead");
        }

        Ids(await ListAsync(gateway.Client, $"?function={good}")).Should().Equal(goodIds.AsEnumerable().Reverse(), "newest first");
        Ids(await ListAsync(gateway.Client, $"?function={bad}.openfaas-fn")).Should().Equal(badIds.Reverse());
        Ids(await ListAsync(gateway.Client, $"?function={bad}&state=dead")).Should().Equal(badIds.Reverse());
        Ids(await ListAsync(gateway.Client, $"?function={bad}&state=succeeded")).Should().BeEmpty();
        Ids(await ListAsync(gateway.Client, $"?function={good}&state=queued,succeeded")).Should().HaveCount(3);
        Ids(await ListAsync(gateway.Client, $"?function={good}&since=1h")).Should().HaveCount(3);
        Ids(await ListAsync(gateway.Client, $"?function={good}&since=2999-01-01T00:00:00Z")).Should().BeEmpty();
        var all = await ListAsync(gateway.Client, "?limit=500");
        Ids(all).Should().Contain(goodIds).And.Contain(badIds);

        var second = await gateway.WaitForStateAsync(goodIds[1], TimeSpan.FromSeconds(5), "succeeded");
        var since = Uri.EscapeDataString(second.GetProperty("createdAt").GetString() ?? "");
        Ids(await ListAsync(gateway.Client, $"?function={good}&since={since}")).Should().Equal(goodIds[2], goodIds[1]);

        // The same JSON as the call's own status, but the result link names the bare id (no token).
        var listed = (await ListAsync(gateway.Client, $"?function={good}")).GetProperty("calls")[2];
        var own = await gateway.Client.GetFromJsonAsync<JsonElement>(TestGateway.StatusOf(goodIds[0]));
        listed.GetProperty("result").GetString().Should().Be($"/async-calls/{goodIds[0]}/result");
        listed.EnumerateObject().Select(p => p.Name).Should().Equal(own.EnumerateObject().Select(p => p.Name));
        foreach (var property in own.EnumerateObject().Where(p => p.Name != "result"))
        {
            listed.GetProperty(property.Name).GetRawText().Should().Be(property.Value.GetRawText(), property.Name);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Paging_with_the_next_link_shows_every_call_once_while_new_calls_arrive()
    {
        var name = NewName("paged");
        var release = new TaskCompletionSource();
        await using var function = await TestUpstream.StartAsync(async (_, _) => await release.Task);
        await using var gateway = await StartAsync(TestGateway.Stack((name, function.Url)));
        var before = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            before.Add(await AcceptAsync(gateway, name, "x"));
        }

        var seen = new List<string>();
        var page = await ListAsync(gateway.Client, $"?function={name}&limit=3");
        seen.AddRange(Ids(page));
        var arrived = new[] { await AcceptAsync(gateway, name, "new"), await AcceptAsync(gateway, name, "new") };
        for (var pages = 1; page.TryGetProperty("next", out var next); pages++)
        {
            pages.Should().BeLessThan(5, "7 calls in pages of 3");
            page.GetProperty("nextCursor").GetString().Should().NotBeNullOrEmpty();
            page = await ListAsync(gateway.Client, next.GetString()?["/async-calls".Length..] ?? "");
            seen.AddRange(Ids(page));
        }

        seen.Should().Equal(before.AsEnumerable().Reverse(), "the calls that arrived while paging neither shift nor repeat the pages after the first");
        Ids(await ListAsync(gateway.Client, $"?function={name}")).Should().Equal(before.Concat(arrived).Reverse());
        release.SetResult();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_bad_parameter_is_400_naming_it_never_an_empty_list()
    {
        var name = NewName("echo");
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack((name, function.Url)));
        await AcceptAsync(gateway, name, "x");
        var bad = new (string Query, string Names)[]
        {
            ("?limit=0", "limit=0"), ("?limit=501", "limit=501"), ("?limit=ten", "limit=ten"), ("?state=done", "state=done"),
            ("?state=dead,finished", "state=finished"), ("?since=yesterday", "since=yesterday"), ("?cursor=bm90LWEtY3Vyc29y", "cursor="),
            ("?function=nosuch", "function=nosuch"), ("?function=a%2Fb", "function=a/b"), ("?fucntion=" + name, "fucntion"),
            ("?state=dead&state=failed", "state is given 2 times"),
        };
        foreach (var (query, names) in bad)
        {
            using var response = await gateway.Client.GetAsync("/async-calls" + query);
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest, query);
            response.Headers.GetValues("X-Gateway-Reason").Should().Equal(["bad_query"], query);
            (await response.Content.ReadAsStringAsync()).Should().Contain(names, query);
        }

        using var replayQueued = await gateway.PostAsync($"/async-calls/replay?function={name}&state=queued", "");
        replayQueued.StatusCode.Should().Be(HttpStatusCode.BadRequest, "only finished calls can be replayed");
        (await replayQueued.Content.ReadAsStringAsync()).Should().Contain("state=queued").And.Contain("dead");
        using var cancelDead = await gateway.PostAsync($"/async-calls/cancel?function={name}&state=dead", "");
        cancelDead.StatusCode.Should().Be(HttpStatusCode.BadRequest, "only queued calls are cancelled in bulk");
        using var deleted = await gateway.Client.DeleteAsync("/async-calls");
        deleted.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        deleted.Content.Headers.Allow.Should().Equal("GET", "HEAD");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_listing_holds_no_token_and_its_links_open_nothing_to_someone_without_the_operators_credentials()
    {
        var name = NewName("echo");
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack((name, function.Url)));
        var tokens = new List<string>();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await AcceptAsync(gateway, name, "secret result " + i));
            var location = TestGateway.StatusOf(ids[^1]);
            tokens.Add(location[(location.IndexOf('~') + 1)..]);
            await gateway.WaitForStateAsync(ids[^1], TimeSpan.FromSeconds(20), "succeeded");
        }

        using var stranger = new HttpClient { BaseAddress = gateway.Url };
        using var listing = await stranger.GetAsync($"/async-calls?function={name}");
        var text = await listing.Content.ReadAsStringAsync();
        listing.StatusCode.Should().Be(HttpStatusCode.OK, "without basic_auth the operator routes are open, like /system/*");
        text.Should().NotContain("~");
        foreach (var token in tokens)
        {
            text.Should().NotContain(token);
        }

        foreach (var call in JsonDocument.Parse(text).RootElement.GetProperty("calls").EnumerateArray())
        {
            using var result = await stranger.GetAsync(call.GetProperty("result").GetString());
            result.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "a listed link names the bare id, which opens nothing");
            (await result.Content.ReadAsStringAsync()).Should().NotContain("secret result");
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task With_basic_auth_the_listing_and_bulk_routes_are_401_without_the_credentials_and_a_calls_token_does_not_open_them()
    {
        var secrets = Directory.CreateTempSubdirectory("fwatchdog-secrets-").FullName;
        await File.WriteAllTextAsync(Path.Combine(secrets, "basic-auth-user"), "admin\n");
        await File.WriteAllTextAsync(Path.Combine(secrets, "basic-auth-password"), "pa55\n");
        var name = NewName("echo");
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await StartAsync(TestGateway.Stack((name, function.Url)),
            new Dictionary<string, string> { ["basic_auth"] = "true", ["secret_mount_path"] = secrets });
        var callId = await AcceptAsync(gateway, name, "x");
        await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(20), "succeeded");
        var location = TestGateway.StatusOf(callId);
        var token = location[(location.IndexOf('~') + 1)..];

        using var client = new HttpClient { BaseAddress = gateway.Url };
        foreach (var (method, path) in new[] { ("GET", "/async-calls"), ("POST", "/async-calls/replay"), ("POST", "/async-calls/cancel") })
        {
            foreach (var credentials in new[] { null, "admin:nope", "token" })
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), $"{path}?function={name}");
                if (credentials == "token")
                {
                    request.Headers.Add("X-Call-Token", token);
                }
                else if (credentials is not null)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
                }

                using var refused = await client.SendAsync(request);
                refused.StatusCode.Should().Be(HttpStatusCode.Unauthorized, $"{method} {path} with {credentials ?? "nothing"}");
                refused.Headers.WwwAuthenticate.ToString().Should().Be("Basic realm=\"Restricted\"");
                (await refused.Content.ReadAsStringAsync()).Should().NotContain(callId);
            }

            using var operatorRequest = new HttpRequestMessage(new HttpMethod(method), $"{path}?function={name}");
            operatorRequest.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:pa55")));
            using var allowed = await client.SendAsync(operatorRequest);
            allowed.StatusCode.Should().Be(HttpStatusCode.OK, $"{method} {path} with the operator's credentials");
        }

        using var listed = new HttpRequestMessage(HttpMethod.Get, $"/async-calls?function={name}");
        listed.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:pa55")));
        Ids(JsonDocument.Parse(await (await client.SendAsync(listed)).Content.ReadAsStringAsync()).RootElement).Should().Equal(callId);
    }

    [Fact(Timeout = 60_000)]
    public async Task Bulk_replay_runs_dead_calls_again_a_page_at_a_time_and_they_succeed()
    {
        var name = NewName("flaky");
        var healthy = false;
        await using var function = await TestUpstream.StartAsync((context, request) =>
        {
            context.Response.StatusCode = Volatile.Read(ref healthy) || request.Text == "fine" ? 200 : 503;
            return context.Response.WriteAsync("answer to " + request.Text);
        });
        await using var gateway = await StartAsync(TestGateway.Stack((name, $$"""{ "upstream": "{{function.Url}}", "max_attempts": 1 }""")));
        var fine = await AcceptAsync(gateway, name, "fine");
        await gateway.WaitForStateAsync(fine, TimeSpan.FromSeconds(20), "succeeded");
        var dead = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            dead.Add(await AcceptAsync(gateway, name, "dead " + i));
            await gateway.WaitForStateAsync(dead[^1], TimeSpan.FromSeconds(20), "dead");
        }

        Volatile.Write(ref healthy, true);
        using var first = await gateway.PostAsync($"/async-calls/replay?function={name}&limit=2", "");
        first.StatusCode.Should().Be(HttpStatusCode.OK);
        var answer = await first.Content.ReadFromJsonAsync<JsonElement>();
        answer.GetProperty("matched").GetInt32().Should().Be(2);
        answer.GetProperty("replayed").GetInt32().Should().Be(2);
        answer.GetProperty("skipped").GetInt32().Should().Be(0);
        answer.GetProperty("refused").GetInt32().Should().Be(0);
        answer.GetProperty("more").GetBoolean().Should().BeTrue();

        using var rest = await gateway.PostAsync(answer.GetProperty("next").GetString() ?? "", "");
        var last = await rest.Content.ReadFromJsonAsync<JsonElement>();
        last.GetProperty("matched").GetInt32().Should().Be(1);
        last.GetProperty("replayed").GetInt32().Should().Be(1);
        last.GetProperty("more").GetBoolean().Should().BeFalse();
        last.TryGetProperty("next", out _).Should().BeFalse();

        foreach (var id in dead)
        {
            var status = await gateway.WaitForStateAsync(id, TimeSpan.FromSeconds(20), "succeeded");
            status.GetProperty("attempts").GetInt32().Should().Be(1, "a replay runs from attempt 1");
            (await gateway.Client.GetStringAsync(TestGateway.StatusOf(id) + "/result")).Should().Be("answer to dead " + dead.IndexOf(id));
        }

        function.All.Count(r => r.Text == "fine").Should().Be(1, "a succeeded call is not replayed");
        function.All.Count(r => r.Text.StartsWith("dead", StringComparison.Ordinal)).Should().Be(6, "each dead call ran once more");
    }

    [Fact(Timeout = 60_000)]
    public async Task Bulk_cancel_cancels_queued_calls_which_then_never_run_and_leaves_the_running_one()
    {
        var name = NewName("slow");
        var release = new TaskCompletionSource();
        await using var function = await TestUpstream.StartAsync(async (context, request) =>
        {
            if (request.Text == "first")
            {
                await release.Task;
            }

            await context.Response.WriteAsync("done " + request.Text);
        });
        await using var gateway = await StartAsync(TestGateway.Stack((name, $$"""{ "upstream": "{{function.Url}}", "max_concurrency": 1 }""")));
        var running = await AcceptAsync(gateway, name, "first");
        await function.NextAsync();
        var queued = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            queued.Add(await AcceptAsync(gateway, name, "queued " + i));
        }

        using var cancel = await gateway.PostAsync($"/async-calls/cancel?function={name}", "");
        cancel.StatusCode.Should().Be(HttpStatusCode.OK);
        var answer = await cancel.Content.ReadFromJsonAsync<JsonElement>();
        answer.GetProperty("matched").GetInt32().Should().Be(3);
        answer.GetProperty("cancelled").GetInt32().Should().Be(3);
        answer.GetProperty("skipped").GetInt32().Should().Be(0);
        answer.GetProperty("more").GetBoolean().Should().BeFalse();

        release.SetResult();
        await gateway.WaitForStateAsync(running, TimeSpan.FromSeconds(20), "succeeded");
        var after = await AcceptAsync(gateway, name, "after");
        await gateway.WaitForStateAsync(after, TimeSpan.FromSeconds(20), "succeeded");
        foreach (var id in queued)
        {
            (await gateway.Client.GetFromJsonAsync<JsonElement>(TestGateway.StatusOf(id))).GetProperty("state").GetString().Should().Be("cancelled");
        }

        function.All.Select(r => r.Text).Should().Equal(["first", "after"], "the cancelled calls never ran, even once the function had room");
        Ids(await ListAsync(gateway.Client, $"?function={name}&state=cancelled")).Should().Equal(queued.AsEnumerable().Reverse());
    }

    /// <summary>Sends until <paramref name="admitted"/> says the function had room (at most 10 s); returns the last answer.</summary>
    private static async Task<HttpResponseMessage> WhenRoomAsync(Func<Task<HttpResponseMessage>> send, Func<HttpResponseMessage, Task<bool>> admitted)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var response = await send();
            if (await admitted(response) || DateTime.UtcNow > deadline)
            {
                return response;
            }

            response.Dispose();
            await Task.Delay(50);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Bulk_replay_stops_at_the_functions_max_queued_with_429_and_says_how_many_it_refused()
    {
        var name = NewName("bounded");
        var healthy = false;
        var release = new TaskCompletionSource();
        await using var function = await TestUpstream.StartAsync(async (context, _) =>
        {
            if (!Volatile.Read(ref healthy))
            {
                context.Response.StatusCode = 503;
                return;
            }

            await release.Task;
        });
        await using var gateway = await StartAsync(TestGateway.Stack((name, $$"""{ "upstream": "{{function.Url}}", "max_attempts": 1, "max_queued": 1 }""")));
        var dead = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            // On NATS a dead call leaves the work stream (where max_queued counts) just after its state is written.
            using var accepted = await WhenRoomAsync(() => gateway.PostAsync("/async-function/" + name, "x"), r => Task.FromResult(r.StatusCode == HttpStatusCode.Accepted));
            accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
            dead.Add(accepted.Headers.GetValues("X-Call-Id").Single());
            await gateway.WaitForStateAsync(dead[^1], TimeSpan.FromSeconds(20), "dead");
        }

        Volatile.Write(ref healthy, true);
        using var replay = await WhenRoomAsync(() => gateway.PostAsync($"/async-calls/replay?function={name}", ""),
            async r => !(await r.Content.ReadAsStringAsync()).Contains("\"replayed\":0", StringComparison.Ordinal));
        replay.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        replay.Headers.RetryAfter.Should().NotBeNull();
        var answer = await replay.Content.ReadFromJsonAsync<JsonElement>();
        answer.GetProperty("matched").GetInt32().Should().Be(3);
        answer.GetProperty("replayed").GetInt32().Should().Be(1);
        answer.GetProperty("refused").GetInt32().Should().Be(2);
        answer.GetProperty("reason").GetString().Should().Contain("max_queued is 1");

        release.SetResult();
        await gateway.WaitForStateAsync(dead[2], TimeSpan.FromSeconds(20), "succeeded");
        Ids(await ListAsync(gateway.Client, $"?function={name}&state=dead")).Should().Equal(dead[1], dead[0]);
    }
}

/// <summary>The same specs against the embedded SQLite queue.</summary>
public sealed class AsyncListingSpecsOnSqlite : AsyncListingSpecs
{
    private protected override Dictionary<string, string> Backend() => [];

    [Fact(Timeout = 60_000)]
    public async Task A_database_made_before_the_listing_indexes_gets_them_at_the_next_start()
    {
        await using var function = await TestUpstream.StartAsync();
        var folder = Directory.CreateTempSubdirectory("fwatchdog-gw-").FullName;
        try
        {
            string callId;
            await using (var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)), dataDir: folder))
            {
                callId = await AcceptAsync(gateway, "echo", "kept");
                await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(20), "succeeded");
            }

            var database = "Data Source=" + Path.Combine(folder, "data", "queue.db") + ";Mode=ReadWrite;Pooling=False";
            await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(database))
            {
                await connection.OpenAsync();
                await using var drop = connection.CreateCommand();
                drop.CommandText = "DROP INDEX jobs_created_at; DROP INDEX jobs_function_created_at; DROP INDEX jobs_ended_created_at;";
                await drop.ExecuteNonQueryAsync();
            }

            await using (var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)), dataDir: folder))
            {
                Ids(await ListAsync(gateway.Client, "?function=echo")).Should().Equal(callId);
            }

            await using var check = new Microsoft.Data.Sqlite.SqliteConnection(database);
            await check.OpenAsync();
            await using var plan = check.CreateCommand();
            plan.CommandText = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs'";
            var indexes = new List<string>();
            await using var reader = await plan.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                indexes.Add(reader.GetString(0));
            }

            indexes.Should().Contain(["jobs_created_at", "jobs_function_created_at", "jobs_ended_created_at"]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

/// <summary>The same specs against NATS JetStream (a real nats-server).</summary>
public sealed class AsyncListingSpecsOnNats(NatsServer nats) : AsyncListingSpecs, IClassFixture<NatsServer>
{
    private protected override Dictionary<string, string> Backend() => nats.Settings();

    [Fact(Timeout = 120_000)]
    public async Task A_listing_reads_a_bounded_window_of_the_bucket_and_says_when_older_calls_are_left_out()
    {
        await using var function = await TestUpstream.StartAsync();
        var settings = nats.Settings();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)), settings);
        var old = await AcceptAsync(gateway, "echo", "old");
        await gateway.WaitForStateAsync(old, TimeSpan.FromSeconds(20), "succeeded");
        Ids(await ListAsync(gateway.Client, "?function=echo")).Should().Equal(old);

        // More records than one listing reads (10,000), all written after the old call's.
        await using var client = new NATS.Client.Core.NatsConnection(new NATS.Client.Core.NatsOpts { Url = nats.Url });
        var bucket = await new NATS.Client.KeyValueStore.NatsKVContext(new NATS.Client.JetStream.NatsJSContext(client)).GetStoreAsync(settings["nats_bucket"]);
        // Each made as the gateway makes a call's record: created when it is first written. Every
        // hundredth is dead: 101 of them, from the first record to the last.
        for (var batch = 0; batch < 101; batch++)
        {
            var createdAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            await Task.WhenAll(Enumerable.Range(batch * 100, 100).Select(i => bucket.PutAsync($"call.filler-{i:D5}", Encoding.UTF8.GetBytes(
                $$"""{"callId":"filler-{{i:D5}}","function":"echo","state":"{{(i % 100 == 0 ? "dead" : "succeeded")}}","attempts":1,"maxAttempts":1,"createdAt":{{createdAt}},"callbackState":"none"}""")).AsTask()));
        }

        var page = await ListAsync(gateway.Client, "?function=echo&state=dead&limit=500");
        page.GetProperty("olderUnlisted").GetBoolean().Should().BeTrue("the bucket holds more records than one listing reads");
        var dead = Ids(page);
        dead.Should().HaveCountLessThan(101, "the oldest records are outside the 10,000 read").And.HaveCountGreaterThan(90);
        dead.Should().Equal(dead.OrderDescending(StringComparer.Ordinal), "newest first").And.Contain("filler-10000");
        page.TryGetProperty("next", out _).Should().BeFalse();
        var fresh = await AcceptAsync(gateway, "echo", "new");
        Ids(await ListAsync(gateway.Client, "?function=echo&limit=1")).Should().Equal(fresh);
    }
}
