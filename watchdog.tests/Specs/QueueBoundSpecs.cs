using System.Runtime.CompilerServices;

namespace Fwatchdog.Tests.Specs;

/// <summary>
/// No caller can fill the queue for everyone: a function's unfinished async calls are bounded
/// (429 with Retry-After past the bound, nothing stored), data_dir has a budget (507), and the
/// workers take calls round-robin across functions, so one function's backlog does not hold
/// another function's calls behind it.
/// </summary>
public abstract class QueueBoundSpecs : QueueBackendSpecs
{
    private protected static readonly TimeSpan Within = TimeSpan.FromSeconds(15);

    [Fact(Timeout = 60_000)]
    public async Task Flooding_a_function_past_async_max_queued_gets_429_with_Retry_After_and_its_stored_calls_stay_intact()
    {
        await using var slow = await HeldFunction.StartAsync();
        try
        {
            await using var gateway = await StartAsync(TestGateway.Stack(("slow", slow.Upstream.Url)),
                new Dictionary<string, string> { ["async_max_queued"] = "3", ["queue_workers"] = "1" });

            var accepted = new List<string>();
            for (var i = 1; i <= 3; i++)
            {
                using var call = await gateway.PostAsync("/async-function/slow", $"call {i}");
                call.StatusCode.Should().Be(HttpStatusCode.Accepted);
                accepted.Add(call.Headers.GetValues("X-Call-Id").Single());
            }

            using var flood = await gateway.PostAsync("/async-function/slow", "one too many");

            flood.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
            flood.Headers.RetryAfter?.Delta.Should().BeGreaterThan(TimeSpan.Zero);
            flood.Headers.GetValues("X-Gateway-Reason").Should().Equal("queue_full");
            (await flood.Content.ReadAsStringAsync()).Should().Contain("max_queued is 3").And.Contain("nothing was queued");
            flood.Headers.GetValues("X-Call-Id").Single().Should().NotBeEmpty("every answer names its call id, refusals too");
            flood.Headers.Location.Should().BeNull("a refused call is not stored, so it has no status");

            slow.ReleaseAll();
            foreach (var callId in accepted)
            {
                await gateway.WaitForStateAsync(callId, Within, "succeeded");
            }

            slow.Upstream.All.Select(r => r.Text).Should().BeEquivalentTo(["call 1", "call 2", "call 3"]);
        }
        finally
        {
            slow.ReleaseAll();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_stack_files_max_queued_bytes_frees_up_again_once_queued_calls_finish_without_a_restart()
    {
        await using var slow = await HeldFunction.StartAsync();
        try
        {
            await using var gateway = await StartAsync(TestGateway.Stack(("slow", $$"""{ "upstream": "{{slow.Upstream.Url}}", "max_queued_bytes": 100 }""")),
                new Dictionary<string, string> { ["queue_workers"] = "1" });
            var body = new string('x', 60);

            using var first = await gateway.PostAsync("/async-function/slow", body);
            using var second = await gateway.PostAsync("/async-function/slow", body);

            first.StatusCode.Should().Be(HttpStatusCode.Accepted);
            second.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
            second.Headers.RetryAfter?.Delta.Should().BeGreaterThan(TimeSpan.Zero);
            (await second.Content.ReadAsStringAsync()).Should().Contain("max_queued_bytes (100)");

            slow.ReleaseAll();
            await gateway.WaitForStateAsync(first.Headers.GetValues("X-Call-Id").Single(), Within, "succeeded");

            // With NATS the finished call stops counting once its message is acknowledged, a moment
            // after its status says succeeded: a refusal in between stores nothing, so ask again.
            HttpResponseMessage third;
            for (var tries = 1; ; tries++)
            {
                third = await gateway.PostAsync("/async-function/slow", body);
                if (third.StatusCode != HttpStatusCode.TooManyRequests || tries == 50)
                {
                    break;
                }

                third.Dispose();
                await Task.Delay(100);
            }

            using var _ = third;
            third.StatusCode.Should().Be(HttpStatusCode.Accepted, "the finished call no longer counts");
            await gateway.WaitForStateAsync(third.Headers.GetValues("X-Call-Id").Single(), Within, "succeeded");
        }
        finally
        {
            slow.ReleaseAll();
        }
    }

    [Fact(Timeout = 90_000)]
    public async Task An_echo_call_queued_behind_another_functions_backlog_finishes_before_that_backlog_drains()
    {
        const int backlog = 8;
        await using var slow = await HeldFunction.StartAsync();
        await using var echo = await TestUpstream.StartAsync();
        try
        {
            await using var gateway = await StartAsync(TestGateway.Stack(("slow", slow.Upstream.Url), ("echo", echo.Url)),
                new Dictionary<string, string> { ["queue_workers"] = "1" });
            var slowCalls = new List<string>();
            for (var i = 1; i <= backlog; i++)
            {
                using var call = await gateway.PostAsync("/async-function/slow", $"slow {i}");
                call.StatusCode.Should().Be(HttpStatusCode.Accepted);
                slowCalls.Add(call.Headers.GetValues("X-Call-Id").Single());
            }

            (await Processes.EventuallyAsync(() => slow.Started >= 1, Within)).Should().BeTrue("the first slow call starts");
            using var echoCall = await gateway.PostAsync("/async-function/echo", "me too");
            echoCall.StatusCode.Should().Be(HttpStatusCode.Accepted);
            var echoId = echoCall.Headers.GetValues("X-Call-Id").Single();

            // One slow call at a time is let go; after each, the next call the one worker takes is
            // either the echo (it then finishes) or another slow one (it then starts).
            var released = 0;
            while (released < backlog && echo.All.IsEmpty)
            {
                slow.ReleaseOne();
                released++;
                (await Processes.EventuallyAsync(() => !echo.All.IsEmpty || slow.Started > released || released == backlog, Within))
                    .Should().BeTrue("after a slow call ends the worker takes the next call");
            }

            await gateway.WaitForStateAsync(echoId, Within, "succeeded");
            released.Should().BeLessThan(backlog, "the echo call waits for a turn, not for the whole backlog of the other function");
            var last = await gateway.Client.GetFromJsonAsync<JsonElement>(TestGateway.StatusOf(slowCalls[^1]));
            last.GetProperty("state").GetString().Should().Be("queued", "the backlog has not drained when the echo call is done");

            slow.ReleaseAll();
            foreach (var callId in slowCalls)
            {
                await gateway.WaitForStateAsync(callId, Within, "succeeded");
            }
        }
        finally
        {
            slow.ReleaseAll();
        }
    }

    /// <summary>A function whose calls each wait until the spec lets them go.</summary>
    private protected sealed class HeldFunction(TestUpstream upstream, SemaphoreSlim gate, StrongBox<int> started) : IAsyncDisposable
    {
        private int _all;

        public TestUpstream Upstream => upstream;

        public int Started => Volatile.Read(ref started.Value);

        public static async Task<HeldFunction> StartAsync()
        {
            var gate = new SemaphoreSlim(0, int.MaxValue);
            var started = new StrongBox<int>();
            var upstream = await TestUpstream.StartAsync(async (context, request) =>
            {
                Interlocked.Increment(ref started.Value);
                await gate.WaitAsync(TimeSpan.FromSeconds(60));
                await context.Response.Body.WriteAsync(request.Body);
            });
            return new HeldFunction(upstream, gate, started);
        }

        public void ReleaseOne() => gate.Release();

        /// <summary>Lets every call through from now on.</summary>
        public void ReleaseAll()
        {
            if (Interlocked.Exchange(ref _all, 1) == 0)
            {
                gate.Release(100_000);
            }
        }

        public async ValueTask DisposeAsync()
        {
            ReleaseAll();
            await upstream.DisposeAsync();
            gate.Dispose();
        }
    }
}

/// <summary>The same specs against the embedded SQLite queue, and the data_dir budget (only SQLite keeps calls in data_dir).</summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class QueueBoundSpecsOnSqlite : QueueBoundSpecs
{
    private protected override Dictionary<string, string> Backend() => [];

    [Fact(Timeout = 60_000)]
    public async Task A_call_that_would_pass_async_max_disk_bytes_gets_507_and_nothing_accepted_is_lost()
    {
        await using var slow = await HeldFunction.StartAsync();
        try
        {
            await using var gateway = await StartAsync(TestGateway.Stack(("slow", slow.Upstream.Url)),
                new Dictionary<string, string> { ["async_max_disk_bytes"] = "6MiB", ["queue_workers"] = "1" });
            var body = new string('d', 1 << 20);
            var accepted = new List<string>();
            HttpResponseMessage? refused = null;
            for (var i = 0; i < 12 && refused is null; i++)
            {
                var call = await gateway.PostAsync("/async-function/slow", body);
                if (call.StatusCode == HttpStatusCode.Accepted)
                {
                    accepted.Add(call.Headers.GetValues("X-Call-Id").Single());
                    call.Dispose();
                }
                else
                {
                    refused = call;
                }
            }

            refused.Should().NotBeNull("6 MiB cannot hold twelve 1 MiB bodies");
            using (var response = refused ?? throw new InvalidOperationException("no refusal"))
            {
                response.StatusCode.Should().Be(HttpStatusCode.InsufficientStorage);
                response.Headers.RetryAfter?.Delta.Should().BeGreaterThan(TimeSpan.Zero);
                response.Headers.GetValues("X-Gateway-Reason").Should().Equal("storage_full");
                (await response.Content.ReadAsStringAsync()).Should().Contain("async_max_disk_bytes");
                response.Headers.Location.Should().BeNull("a refused call is not stored, so it has no status");
            }

            accepted.Should().NotBeEmpty();
            slow.ReleaseAll();
            foreach (var callId in accepted)
            {
                await gateway.WaitForStateAsync(callId, Within, "succeeded");
            }

            await Task.Delay(500);
            slow.Upstream.All.Should().HaveCount(accepted.Count, "the refused call was not stored, so it never runs").And.OnlyContain(r => r.Text == body);
        }
        finally
        {
            slow.ReleaseAll();
        }
    }
}

/// <summary>The same specs against NATS JetStream (a real nats-server).</summary>
public sealed class QueueBoundSpecsOnNats(NatsServer nats) : QueueBoundSpecs, IClassFixture<NatsServer>
{
    private protected override Dictionary<string, string> Backend() => nats.Settings();
}
