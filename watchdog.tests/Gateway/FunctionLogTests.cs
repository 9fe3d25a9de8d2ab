using Fwatchdog.Gateway.Functions;

namespace Fwatchdog.Tests.Gateway;

/// <summary>A local function's kept lines (GET /system/logs) are bounded in lines, bytes and line length, and followers come and go.</summary>
public sealed class FunctionLogTests : FastTier
{
    [Fact]
    public void At_most_MaxLines_lines_are_kept_the_oldest_dropped_first()
    {
        var log = new FunctionLog(TimeProvider.System);
        for (var i = 0; i < FunctionLog.MaxLines + 10; i++)
        {
            log.Add("1", "line " + i);
        }

        var kept = log.Read(null, 0, false).Kept;
        kept.Should().HaveCount(FunctionLog.MaxLines);
        kept[0].Text.Should().Be("line 10");
        kept[^1].Text.Should().Be("line " + (FunctionLog.MaxLines + 9));
    }

    [Fact]
    public void At_most_MaxBytes_of_text_are_kept_and_a_long_line_is_cut()
    {
        var log = new FunctionLog(TimeProvider.System);
        var line = new string('x', FunctionLog.MaxLineChars);
        for (var i = 0; i < 100; i++)
        {
            log.Add("1", line + "cut off");
        }

        var kept = log.Read(null, 0, false).Kept;
        kept.Should().OnlyContain(l => l.Text == line, "a line is cut at MaxLineChars");
        kept.Sum(l => l.Bytes).Should().BeLessThanOrEqualTo(FunctionLog.MaxBytes);
        kept.Should().HaveCount(FunctionLog.MaxBytes / FunctionLog.MaxLineChars);
    }

    [Theory]
    [InlineData(0, 5)]
    [InlineData(-1, 5)]
    [InlineData(2, 2)]
    [InlineData(9, 5)]
    public void Tail_gives_the_last_lines_and_zero_or_less_gives_all(int tail, int expected)
    {
        var log = new FunctionLog(TimeProvider.System);
        for (var i = 0; i < 5; i++)
        {
            log.Add("1", "line " + i);
        }

        var kept = log.Read(null, tail, false).Kept;
        kept.Should().HaveCount(expected);
        kept[^1].Text.Should().Be("line 4");
    }

    [Fact]
    public void Since_keeps_the_lines_from_that_time_on()
    {
        var time = new SteppedTime(DateTimeOffset.Parse("2026-12-03T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var log = new FunctionLog(time);
        log.Add("1", "old");
        time.Now += TimeSpan.FromMinutes(1);
        log.Add("1", "new");

        log.Read(time.Now, 0, false).Kept.Select(l => l.Text).Should().Equal("new");
    }

    [Fact]
    public async Task A_follower_gets_the_lines_added_after_it_started_and_disposing_it_ends_following()
    {
        var log = new FunctionLog(TimeProvider.System);
        log.Add("1", "before");
        var (kept, follower) = log.Read(null, 0, true);
        kept.Select(l => l.Text).Should().Equal("before");
        log.Followers.Should().Be(1);

        log.Add("1", "after");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        (await follower!.ReadAllAsync(timeout.Token).FirstAsync(timeout.Token)).Text.Should().Be("after");

        follower.Dispose();
        log.Followers.Should().Be(0);
    }

    [Fact]
    public void A_follower_that_falls_behind_loses_its_oldest_lines_not_the_gateways_memory()
    {
        var log = new FunctionLog(TimeProvider.System);
        var (_, follower) = log.Read(null, 0, true);
        for (var i = 0; i < FunctionLog.FollowerBacklog + 5; i++)
        {
            log.Add("1", "line " + i);
        }

        follower!.Count.Should().Be(FunctionLog.FollowerBacklog);
        follower.TryRead(out var first).Should().BeTrue();
        first!.Text.Should().Be("line 5");
        follower.Dispose();
    }

    [Fact]
    public void A_follower_that_falls_behind_on_long_lines_keeps_at_most_the_logs_bytes()
    {
        var log = new FunctionLog(TimeProvider.System);
        var (_, follower) = log.Read(null, 0, true);
        for (var i = 0; i < 200; i++)
        {
            log.Add("1", i.ToString("D3", CultureInfo.InvariantCulture) + new string('x', FunctionLog.MaxLineChars - 3));
        }

        var kept = new List<FunctionLog.LogLine>();
        while (follower!.TryRead(out var line))
        {
            kept.Add(line);
        }

        kept.Sum(l => l.Bytes).Should().BeLessThanOrEqualTo(FunctionLog.MaxBytes);
        kept.Should().HaveCount(FunctionLog.MaxBytes / FunctionLog.MaxLineChars);
        kept[^1].Text.Should().StartWith("199", "the newest lines are the ones kept");
        follower.Count.Should().Be(0);
        follower.Dispose();
    }

    [Fact]
    public void Tail_counts_the_lines_of_the_instance_asked_for()
    {
        var log = new FunctionLog(TimeProvider.System);
        foreach (var (instance, text) in new[] { ("1", "a"), ("1", "b"), ("1", "c"), ("2", "d"), ("2", "e") })
        {
            log.Add(instance, text);
        }

        log.Read(null, 2, false, "1").Kept.Select(l => l.Text).Should().Equal("b", "c");
        log.Read(null, 2, false).Kept.Select(l => l.Text).Should().Equal("d", "e");
    }

    private sealed class SteppedTime(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
