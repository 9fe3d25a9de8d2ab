using System.Text.RegularExpressions;
using Fwatchdog.Hosting;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Tests.Hosting;

/// <summary>The log line format is the one the SimpleConsole formatter wrote (single line, UTC), which log shippers already parse.</summary>
public sealed partial class LineLoggerTests : FastTier
{
    [Fact]
    public void An_event_is_one_line_with_utc_time_level_category_event_id_and_message()
    {
        var output = new StringWriter();
        using var provider = new LineLoggerProvider(output);

        provider.CreateLogger("Fwatchdog.Server.FunctionHandler").Log(LogLevel.Information, new EventId(510), "POST / 200", null, (s, _) => s);

        output.ToString().Should().MatchRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info: Fwatchdog\.Server\.FunctionHandler\[510\] POST / 200\n$");
    }

    [Fact]
    public void The_timestamp_is_the_time_of_the_event_in_utc()
    {
        var output = new StringWriter();
        using var provider = new LineLoggerProvider(output);
        var before = DateTime.UtcNow;

        provider.CreateLogger("c").Log(LogLevel.Information, new EventId(1), "m", null, (s, _) => s);

        var stamp = DateTime.ParseExact(output.ToString()[..24], "yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
        stamp.Should().BeOnOrAfter(before.AddMilliseconds(-1)).And.BeOnOrBefore(DateTime.UtcNow);
    }

    [Theory]
    [InlineData(LogLevel.Trace, "trce")]
    [InlineData(LogLevel.Debug, "dbug")]
    [InlineData(LogLevel.Warning, "warn")]
    [InlineData(LogLevel.Error, "fail")]
    [InlineData(LogLevel.Critical, "crit")]
    public void Levels_have_their_four_letter_names(LogLevel level, string name)
    {
        var output = new StringWriter();
        using var provider = new LineLoggerProvider(output);

        provider.CreateLogger("c").Log(level, new EventId(1), "m", null, (s, _) => s);

        output.ToString().Should().Contain($"Z {name}: c[1] m\n");
    }

    [Fact]
    public void Newlines_in_the_message_and_the_exception_are_folded_so_one_event_stays_one_line()
    {
        var output = new StringWriter();
        using var provider = new LineLoggerProvider(output);
        Exception thrown;
        try
        {
            throw new InvalidOperationException("broken\nagain");
        }
        catch (InvalidOperationException e)
        {
            thrown = e;
        }

        provider.CreateLogger("c").Log(LogLevel.Error, new EventId(7), "first\r\nsecond", thrown, (s, _) => s);

        var text = output.ToString();
        text.Count(c => c == '\n').Should().Be(1);
        text.Should().EndWith("\n").And.Contain("fail: c[7] first second System.InvalidOperationException: broken again");
        Stack().IsMatch(text).Should().BeTrue("the stack trace is kept, on the same line");
    }

    [GeneratedRegex(@"broken again +at Fwatchdog\.Tests")]
    private static partial Regex Stack();
}
