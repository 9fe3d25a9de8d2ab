using Fwatchdog.Server.ForkMode;

namespace Fwatchdog.Tests.Server;

/// <summary>Rows checked against Go's net/http DetectContentType (sniff.go and its sniff_test.go cases).</summary>
public sealed class ContentSnifferTests : FastTier
{
    [Theory]
    [InlineData("", "text/plain; charset=utf-8")]
    [InlineData("hello, world\n", "text/plain; charset=utf-8")]
    [InlineData("{\"json\": true}", "text/plain; charset=utf-8")]
    [InlineData("café ☕", "text/plain; charset=utf-8")]
    [InlineData("<html><body>hi</body></html>", "text/html; charset=utf-8")]
    [InlineData("\n\t <!DOCTYPE html>\n<p>x", "text/html; charset=utf-8")]
    [InlineData("<HtMl>", "text/html; charset=utf-8")]
    [InlineData("<p class=x>", "text/html; charset=utf-8")]
    [InlineData("<!-- note -->", "text/html; charset=utf-8")]
    [InlineData("<h1>Title</h1>", "text/html; charset=utf-8")]
    [InlineData("<html", "text/plain; charset=utf-8")]
    [InlineData("<htmlx>", "text/plain; charset=utf-8")]
    [InlineData("<br/>", "text/plain; charset=utf-8")]
    [InlineData("  <?xml version=\"1.0\"?><a/>", "text/xml; charset=utf-8")]
    [InlineData("%PDF-1.7", "application/pdf")]
    [InlineData("%!PS-Adobe-3.0", "application/postscript")]
    [InlineData("GIF89a....", "image/gif")]
    [InlineData("BM....", "image/bmp")]
    [InlineData("ID3\u0003", "audio/mpeg")]
    [InlineData("OggS\0\u0002", "application/ogg")]
    [InlineData("MThd\0\0\0\u0006\0\u0001", "audio/midi")]
    [InlineData("RIFF\0\0\0\0WAVEfmt ", "audio/wave")]
    [InlineData("RIFF\u0001\u0002\u0003\u0004AVI LIST", "video/avi")]
    [InlineData("RIFF\0\0\0\0WEBPVP8 ", "image/webp")]
    [InlineData("FORM\0\0\0\0AIFFCOMM", "audio/aiff")]
    [InlineData(".snd\0\0\0\u0018", "audio/basic")]
    [InlineData("text with a \u0001 control", "application/octet-stream")]
    [InlineData("tab\tand\u001b escape are text", "text/plain; charset=utf-8")]
    public void Text_and_known_signatures_are_recognised(string data, string expected) =>
        ContentSniffer.Detect(Encoding.UTF8.GetBytes(data)).Should().Be(expected);

    [Theory]
    [InlineData(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0 }, "image/png")]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0 }, "image/jpeg")]
    [InlineData(new byte[] { 0x50, 0x4B, 0x03, 0x04, 0x14 }, "application/zip")]
    [InlineData(new byte[] { 0x1F, 0x8B, 0x08, 0x00 }, "application/x-gzip")]
    [InlineData(new byte[] { 0x52, 0x61, 0x72, 0x20, 0x1A, 0x07, 0x00 }, "application/x-rar-compressed")]
    [InlineData(new byte[] { 0x1A, 0x45, 0xDF, 0xA3, 0x01 }, "video/webm")]
    [InlineData(new byte[] { 0x00, 0x00, 0x01, 0x00, 0x01 }, "image/vnd.microsoft.icon")]
    [InlineData(new byte[] { 0xFE, 0xFF, 0x00, 0x68 }, "text/plain; charset=utf-16be")]
    [InlineData(new byte[] { 0xFF, 0xFE, 0x68, 0x00 }, "text/plain; charset=utf-16le")]
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF, 0x68 }, "text/plain; charset=utf-8")]
    [InlineData(new byte[] { 0x00, 0x00, 0x00, 0x18, 0x66, 0x74, 0x79, 0x70, 0x6D, 0x70, 0x34, 0x32, 0, 0, 0, 0, 0x69, 0x73, 0x6F, 0x6D, 0x6D, 0x70, 0x34, 0x32 }, "video/mp4")]
    [InlineData(new byte[] { 0x00, 0x01, 0x02, 0xFF }, "application/octet-stream")]
    public void Binary_signatures_are_recognised(byte[] data, string expected) =>
        ContentSniffer.Detect(data).Should().Be(expected);

    [Fact]
    public void Only_the_first_512_bytes_count()
    {
        var data = Encoding.ASCII.GetBytes(new string('a', 512) + "\u0001");

        ContentSniffer.Detect(data).Should().Be("text/plain; charset=utf-8");
    }
}
