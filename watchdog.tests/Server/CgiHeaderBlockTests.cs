using Fwatchdog.Server.ForkMode;

namespace Fwatchdog.Tests.Server;

public sealed class CgiHeaderBlockTests : FastTier
{
    [Theory]
    [InlineData("Status: 201\n\nbody", 13)]
    [InlineData("Status: 201\r\n\r\nbody", 15)]
    [InlineData("Status: 201\n", 0)]
    [InlineData("A: b\nC: d\n\n", 11)]
    public void End_of_the_block_is_the_first_blank_line(string output, int end) =>
        CgiHeaderBlock.FindEnd(Encoding.UTF8.GetBytes(output)).Should().Be(end);

    [Fact]
    public void A_block_without_a_blank_line_in_16_KiB_is_malformed() =>
        CgiHeaderBlock.FindEnd(Encoding.UTF8.GetBytes("X: " + new string('a', CgiHeaderBlock.MaxLength))).Should().Be(-1);

    [Fact]
    public void Status_and_headers_are_read()
    {
        CgiHeaderBlock.TryParse("Status: 201 Created\r\nContent-Type: application/json\r\nX-A: 1\r\n\r\n"u8, out var block, out var error).Should().BeTrue(error);

        block.Status.Should().Be(201);
        block.Headers.Should().Equal(new KeyValuePair<string, string>("Content-Type", "application/json"), new KeyValuePair<string, string>("X-A", "1"));
    }

    [Theory]
    [InlineData("Status: abc\n\n", "is not a status code")]
    [InlineData("Status: 99\n\n", "is not a status code")]
    [InlineData("X-A: 1\nnot a header\n\n", "is not a \"Name: value\" header")]
    [InlineData("Bad Name: 1\n\n", "is not a \"Name: value\" header")]
    [InlineData("Status: 101\n\n", "Status 101 is informational")]
    [InlineData("X-A: one\u0001two\n\n", "the value of X-A holds a control character")]
    public void Malformed_blocks_are_rejected_with_the_offending_line(string text, string expected)
    {
        CgiHeaderBlock.TryParse(Encoding.UTF8.GetBytes(text), out _, out var error).Should().BeFalse();
        error.Should().Contain(expected);
    }

    [Fact]
    public void Framing_and_hop_by_hop_headers_are_dropped_and_named()
    {
        CgiHeaderBlock.TryParse("Transfer-Encoding: chunked\nContent-Length: 1\nConnection: close\nKeep-Alive: 1\nUpgrade: h2c\nTrailer: X\nte: trailers\nProxy-Foo: 1\nX-A: 1\n\n"u8,
            out var block, out var error).Should().BeTrue(error);

        block.Headers.Select(h => h.Key).Should().Equal("X-A");
        block.Dropped.Should().Equal("Transfer-Encoding", "Content-Length", "Connection", "Keep-Alive", "Upgrade", "Trailer", "te", "Proxy-Foo");
    }

    [Fact]
    public void Utf8_values_keep_their_bytes()
    {
        CgiHeaderBlock.TryParse("X-Name: caf\u00e9\n\n"u8, out var block, out _).Should().BeTrue();

        Encoding.Latin1.GetBytes(block.Headers[0].Value).Should().Equal("caf\u00e9"u8.ToArray());
    }
}
