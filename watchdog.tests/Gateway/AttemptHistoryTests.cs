using Fwatchdog.Gateway.Queue;

namespace Fwatchdog.Tests.Gateway;

/// <summary>
/// A call's attempt history: the rules (<see cref="CallAttempt"/>, which the NATS queue applies to
/// the call's record) and the SQLite queue's SQL that does the same in its own statements, run
/// through one sequence of claims, retries, a lease that runs out, a release and an outcome.
/// </summary>
public sealed class AttemptHistoryTests : FastTier
{
    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private sealed class Unlimited : ISlotBook
    {
        public bool TryTake(string function) => true;

        public void Give(string function)
        {
        }
    }

    [Fact]
    public void A_new_attempt_closes_one_left_open_as_lease_expired_and_the_oldest_go_past_the_kept_twenty()
    {
        CallAttempt[]? history = null;
        for (var i = 0; i < 25; i++)
        {
            history = CallAttempt.Started(history, i, 100, 100 * i);
            history = CallAttempt.Finished(history, (100 * i) + 10, 503, "function answered 503");
        }

        history = CallAttempt.Started(CallAttempt.Started(history, 25, 100, 3000), 26, 100, 4000);

        history.Should().HaveCount(CallAttempt.Kept);
        history.Select(a => a.Attempt).Should().Equal(Enumerable.Range(8, 20));
        history[^2].Should().Be(new CallAttempt(26, 3000, 4000, null, CallAttempt.LeaseExpired));
        history[^1].Should().Be(new CallAttempt(27, 4000));
        CallAttempt.Dropped(history).Should().Equal(history[..^1]);
        CallAttempt.Finished(history, 4100, 0, "").Should().EndWith(new CallAttempt(27, 4000, 4100));
    }

    [Fact]
    public void A_call_stored_before_histories_numbers_its_first_recorded_attempt_after_the_ones_it_made()
    {
        CallAttempt.Started(null, 3, 5, 1000).Should().Equal(new CallAttempt(4, 1000));
    }

    [Fact]
    public void A_claim_with_no_attempt_left_closes_the_open_one_and_starts_none()
    {
        CallAttempt.Started([new CallAttempt(1, 1000)], 1, 1, 2000).Should().Equal(new CallAttempt(1, 1000, 2000, null, CallAttempt.LeaseExpired));
        CallAttempt.Started([new CallAttempt(1, 1000, 1100, 503, "function answered 503")], 1, 1, 2000).Should().Equal(new CallAttempt(1, 1000, 1100, 503, "function answered 503"));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(512, 512)]
    [InlineData(513, 512)]
    [InlineData(64 * 1024, 512)]
    public void An_error_is_stored_cut_to_512_characters_with_the_cut_marked(int length, int stored)
    {
        var error = new string('e', length);
        var cut = CallAttempt.Cut(error) ?? "";
        cut.Length.Should().Be(stored);
        (cut == error).Should().Be(length <= CallAttempt.MaxErrorLength);
        if (length > CallAttempt.MaxErrorLength)
        {
            cut.Should().Be(new string('e', 511) + "…");
        }
    }

    [Fact]
    public void A_cut_never_splits_a_character_made_of_two_utf16_units()
    {
        var error = new string('e', 510) + "😀" + new string('e', 100);
        CallAttempt.Cut(error).Should().Be(new string('e', 510) + "…");
        CallAttempt.Cut(null).Should().BeNull();
    }

    [Fact(Timeout = 30_000)]
    public async Task The_sqlite_queue_keeps_the_same_history_as_the_rules_say()
    {
        var folder = Directory.CreateTempSubdirectory("fwatchdog-history-").FullName;
        var clock = new Clock();
        var lease = TimeSpan.FromSeconds(1);
        var slots = new Unlimited();
        CallAttempt[]? expected = null;
        long Ms() => clock.Now.ToUnixTimeMilliseconds();
        try
        {
            await using var queue = new SqliteJobQueue(folder, lease, TimeSpan.FromSeconds(1), clock);
            var request = new JobRequest("call-1", "echo", "POST", "/", "", [], null, null, 100);
            (await queue.EnqueueAsync(request, new StoredBody([1], null, 1), CancellationToken.None)).Status.Should().Be(EnqueueStatus.Stored);

            async Task ClaimAsync()
            {
                var claimed = (await queue.ClaimAsync(1, slots, CancellationToken.None)).Should().ContainSingle().Subject;
                expected = CallAttempt.Started(expected, claimed.Attempt - 1, request.MaxAttempts, Ms());
            }

            for (var i = 0; i < 24; i++)
            {
                await ClaimAsync();
                clock.Now += TimeSpan.FromMilliseconds(10);
                var status = i % 2 == 0 ? 503 : 502;
                await queue.RetryAsync("call-1", clock.Now, status, $"function answered {status}", CancellationToken.None);
                expected = CallAttempt.Finished(expected, Ms(), status, $"function answered {status}");
            }

            await ClaimAsync();
            clock.Now += lease + TimeSpan.FromMilliseconds(1);
            await ClaimAsync();
            await queue.ReleaseAsync("call-1", CancellationToken.None);
            expected = CallAttempt.Dropped(expected);
            await ClaimAsync();
            clock.Now += TimeSpan.FromMilliseconds(10);
            var outcome = new JobOutcome(JobState.Dead, 503, "gave up after 3 attempts; last: function answered 503", null, StoredBody.Empty, TimeSpan.Zero)
            {
                AttemptError = "function answered 503",
            };
            (await queue.CompleteAsync("call-1", outcome, CancellationToken.None)).Should().BeTrue();
            expected = CallAttempt.Finished(expected, Ms(), 503, "function answered 503");

            var stored = await queue.GetAsync("call-1", CancellationToken.None);
            stored.Should().NotBeNull();
            stored?.History.Should().Equal(expected ?? []);
            stored?.History.Should().HaveCount(CallAttempt.Kept);
            stored?.History[^2].Error.Should().Be(CallAttempt.LeaseExpired);
            stored?.History[^1].Should().Be(new CallAttempt(26, Ms() - 10, Ms(), 503, "function answered 503"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task The_sqlite_queue_gives_a_call_whose_last_attempt_lost_its_lease_up_without_adding_an_attempt_as_the_rules_say()
    {
        var folder = Directory.CreateTempSubdirectory("fwatchdog-history-").FullName;
        var clock = new Clock();
        var lease = TimeSpan.FromSeconds(1);
        try
        {
            await using var queue = new SqliteJobQueue(folder, lease, TimeSpan.FromSeconds(1), clock);
            var request = new JobRequest("call-1", "echo", "POST", "/", "", [], null, null, 1);
            (await queue.EnqueueAsync(request, new StoredBody([1], null, 1), CancellationToken.None)).Status.Should().Be(EnqueueStatus.Stored);
            (await queue.ClaimAsync(1, new Unlimited(), CancellationToken.None)).Should().ContainSingle().Which.Attempt.Should().Be(1);
            var expected = CallAttempt.Started(null, 0, 1, clock.Now.ToUnixTimeMilliseconds());

            clock.Now += lease + TimeSpan.FromMilliseconds(1);
            (await queue.ClaimAsync(1, new Unlimited(), CancellationToken.None)).Should().ContainSingle().Which.Attempt.Should().Be(2, "the runner sees no attempt is left");
            expected = CallAttempt.Started(expected, 1, 1, clock.Now.ToUnixTimeMilliseconds());
            var outcome = new JobOutcome(JobState.Dead, 0, "the gateway running the last attempt stopped before it ended", null, StoredBody.Empty, TimeSpan.Zero);
            (await queue.CompleteAsync("call-1", outcome, CancellationToken.None)).Should().BeTrue();

            var stored = await queue.GetAsync("call-1", CancellationToken.None);
            stored?.History.Should().Equal(expected);
            stored?.History.Should().Equal(new CallAttempt(1, clock.Now.ToUnixTimeMilliseconds() - 1001, clock.Now.ToUnixTimeMilliseconds(), null, CallAttempt.LeaseExpired));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
