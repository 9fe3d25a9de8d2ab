using Fwatchdog.Configuration;

namespace Fwatchdog.Tests.Configuration;

public sealed class DurationParserTests : FastTier
{
    [Theory]
    [InlineData("30", 30_000)]
    [InlineData("0", 0)]
    [InlineData("500ms", 500)]
    [InlineData("10s", 10_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData(" 20s ", 20_000)]
    [InlineData("2m", 120_000)]
    public void Valid_durations_parse_to_milliseconds(string text, int milliseconds)
    {
        DurationParser.TryParse(text, out var value).Should().BeTrue();
        value.Should().Be(TimeSpan.FromMilliseconds(milliseconds));
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("-5s")]
    [InlineData("ten")]
    [InlineData("10d")]
    [InlineData("s")]
    [InlineData("10 s")]
    [InlineData("1..5s")]
    public void Invalid_durations_are_rejected(string text) =>
        DurationParser.TryParse(text, out _).Should().BeFalse();

    [Theory]
    [InlineData(0, "0")]
    [InlineData(500, "500ms")]
    [InlineData(30_000, "30s")]
    [InlineData(90_000, "1m30s")]
    [InlineData(3_600_000, "1h")]
    public void Durations_format_the_way_users_write_them(int milliseconds, string expected) =>
        DurationParser.Format(TimeSpan.FromMilliseconds(milliseconds)).Should().Be(expected);
}
