using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Fwatchdog.Server.ForkMode;

/// <summary>
/// The Content-Type of output nothing else typed, from its first 512 bytes, with the table and
/// rules of Go's <c>http.DetectContentType</c> (the WHATWG MIME sniffing standard), so a function
/// printing HTML shows as a page in a browser, as with the classic watchdog.
/// </summary>
internal static class ContentSniffer
{
    public const int SniffLength = 512;
    public const string OctetStream = "application/octet-stream";
    public const string Html = "text/html; charset=utf-8";
    public const string Text = "text/plain; charset=utf-8";

    /// <summary>Tags that make HTML when followed by a space or '&gt;' (letters match either case).</summary>
    private static readonly byte[][] HtmlTags = [.. new[]
    {
        "<!DOCTYPE HTML", "<HTML", "<HEAD", "<SCRIPT", "<IFRAME", "<H1", "<DIV", "<FONT", "<TABLE", "<A",
        "<STYLE", "<TITLE", "<B", "<BODY", "<BR", "<P", "<!--",
    }.Select(Encoding.ASCII.GetBytes)];

    /// <summary>Byte patterns in Go's order: data &amp; mask must equal the pattern (no mask: an exact prefix).</summary>
    private static readonly Signature[] Signatures =
    [
        new("<?xml"u8.ToArray(), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF], "text/xml; charset=utf-8", SkipWhitespace: true),
        new("%PDF-"u8.ToArray(), null, "application/pdf"),
        new("%!PS-Adobe-"u8.ToArray(), null, "application/postscript"),
        new([0xFE, 0xFF, 0x00, 0x00], [0xFF, 0xFF, 0x00, 0x00], "text/plain; charset=utf-16be"),
        new([0xFF, 0xFE, 0x00, 0x00], [0xFF, 0xFF, 0x00, 0x00], "text/plain; charset=utf-16le"),
        new([0xEF, 0xBB, 0xBF, 0x00], [0xFF, 0xFF, 0xFF, 0x00], Text),
        new("GIF87a"u8.ToArray(), null, "image/gif"),
        new("GIF89a"u8.ToArray(), null, "image/gif"),
        new([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], null, "image/png"),
        new([0xFF, 0xD8, 0xFF], null, "image/jpeg"),
        new("BM"u8.ToArray(), null, "image/bmp"),
        new("RIFF\0\0\0\0WEBPVP"u8.ToArray(), [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], "image/webp"),
        new([0x00, 0x00, 0x01, 0x00], null, "image/vnd.microsoft.icon"),
        new("RIFF\0\0\0\0WAVE"u8.ToArray(), [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF], "audio/wave"),
        new("FORM\0\0\0\0AIFF"u8.ToArray(), [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF], "audio/aiff"),
        new(".snd"u8.ToArray(), null, "audio/basic"),
        new("OggS\0"u8.ToArray(), "OggS\0"u8.ToArray(), "application/ogg"),
        new("MThd\0\0\0\x06"u8.ToArray(), null, "audio/midi"),
        new("ID3"u8.ToArray(), null, "audio/mpeg"),
        new("RIFF\0\0\0\0AVI "u8.ToArray(), [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF], "video/avi"),
        new([0x1A, 0x45, 0xDF, 0xA3], null, "video/webm"),
        new([0x52, 0x61, 0x72, 0x20, 0x1A, 0x07, 0x00], null, "application/x-rar-compressed"),
        new([0x50, 0x4B, 0x03, 0x04], null, "application/zip"),
        new([0x1F, 0x8B, 0x08], null, "application/x-gzip"),
    ];

    /// <summary>Bytes that make data binary: controls other than tab, LF, FF, CR and ESC.</summary>
    private static readonly SearchValues<byte> BinaryBytes = SearchValues.Create(
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 0x0B, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1C, 0x1D, 0x1E, 0x1F]);

    public static string Detect(ReadOnlySpan<byte> data)
    {
        data = data[..Math.Min(data.Length, SniffLength)];
        var firstNonWhitespace = 0;
        while (firstNonWhitespace < data.Length && data[firstNonWhitespace] is (byte)'\t' or (byte)'\n' or 0x0C or (byte)'\r' or (byte)' ')
        {
            firstNonWhitespace++;
        }

        var text = data[firstNonWhitespace..];
        foreach (var tag in HtmlTags)
        {
            if (IsHtmlTag(text, tag))
            {
                return Html;
            }
        }

        foreach (var signature in Signatures)
        {
            if (signature.Matches(signature.SkipWhitespace ? text : data))
            {
                return signature.ContentType;
            }
        }

        if (IsMp4(data))
        {
            return "video/mp4";
        }

        return text.ContainsAny(BinaryBytes) ? OctetStream : Text;
    }

    private static bool IsHtmlTag(ReadOnlySpan<byte> data, byte[] tag)
    {
        if (data.Length < tag.Length + 1)
        {
            return false;
        }

        for (var i = 0; i < tag.Length; i++)
        {
            var b = tag[i] is >= (byte)'A' and <= (byte)'Z' ? (byte)(data[i] & 0xDF) : data[i];
            if (b != tag[i])
            {
                return false;
            }
        }

        return data[tag.Length] is (byte)' ' or (byte)'>';
    }

    /// <summary>An ISO base media file whose ftyp box names an mp4 brand (WHATWG MIME sniffing, 6.2.1).</summary>
    private static bool IsMp4(ReadOnlySpan<byte> data)
    {
        if (data.Length < 12)
        {
            return false;
        }

        var boxSize = (int)BinaryPrimitives.ReadUInt32BigEndian(data);
        if (boxSize % 4 != 0 || data.Length < boxSize || !data[4..8].SequenceEqual("ftyp"u8))
        {
            return false;
        }

        for (var at = 8; at < boxSize; at += 4)
        {
            if (at != 12 && data[at..(at + 3)].SequenceEqual("mp4"u8))
            {
                return true;
            }
        }

        return false;
    }

    private sealed record Signature(byte[] Pattern, byte[]? Mask, string ContentType, bool SkipWhitespace = false)
    {
        public bool Matches(ReadOnlySpan<byte> data)
        {
            if (data.Length < Pattern.Length)
            {
                return false;
            }

            if (Mask is null)
            {
                return data.StartsWith(Pattern);
            }

            for (var i = 0; i < Pattern.Length; i++)
            {
                if ((data[i] & Mask[i]) != Pattern[i])
                {
                    return false;
                }
            }

            return true;
        }
    }
}
