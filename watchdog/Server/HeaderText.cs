using System.Buffers;
using System.Text;

namespace Fwatchdog.Server;

/// <summary>
/// Header values arrive one char per byte (Kestrel reads and writes them as Latin-1, see
/// <c>HostSetup.ByteTransparentHeaders</c>), so UTF-8 bytes pass through responses unchanged.
/// Where a value meets the OS or JSON as text, its bytes are read as the UTF-8 they spell,
/// as the classic watchdog's Go strings do.
/// </summary>
internal static class HeaderText
{
    private static readonly SearchValues<char> ControlCharacters = SearchValues.Create(
        "\0\x01\x02\x03\x04\x05\x06\x07\x08\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f");

    /// <summary>The text the value's bytes spell in UTF-8 (invalid sequences become U+FFFD); ASCII is returned as is.</summary>
    public static string FromBytes(string latin1) =>
        Ascii.IsValid(latin1) ? latin1 : Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(latin1));

    /// <summary>True when the value holds a control character other than tab (RFC 9110 section 5.5).</summary>
    public static bool HasControlCharacter(string value) => value.AsSpan().ContainsAny(ControlCharacters);

    /// <summary>Where the first control character other than tab is, or -1.</summary>
    public static int IndexOfControlCharacter(string value) => value.AsSpan().IndexOfAny(ControlCharacters);
}
