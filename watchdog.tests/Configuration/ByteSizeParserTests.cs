using Fwatchdog.Configuration;

namespace Fwatchdog.Tests.Configuration;

public sealed class ByteSizeParserTests : FastTier
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("1048576", 1048576L)]
    [InlineData("64KiB", 65536L)]
    [InlineData("10MB", 10_000_000L)]
    [InlineData("1GiB", 1073741824L)]
    [InlineData("5 mib", 5242880L)]
    public void Sizes_parse_to_bytes(string text, long bytes)
    {
        ByteSizeParser.TryParse(text, out var value).Should().BeTrue();
        value.Should().Be(bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("1.5MB")]
    [InlineData("10XB")]
    [InlineData("99999999999999999999")]
    public void Bad_sizes_are_rejected(string text) => ByteSizeParser.TryParse(text, out _).Should().BeFalse();
}
