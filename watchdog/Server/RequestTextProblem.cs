using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Fwatchdog.Server;

/// <summary>
/// A control character in what a caller sent, found before anything reaches a function. Kestrel
/// lets some through: \x01, ESC, DEL, VT, FF in header values, and bare CR, VT, FF, DEL, tab and
/// others in the request target, which a proxy would otherwise write raw into the request line it
/// sends on. Go's server, so the OpenFaaS gateway and watchdogs, refuses both with 400.
/// Used at every entry: the gateway (sync and async), and the watchdog in every mode.
/// </summary>
/// <param name="InTarget">True when the request target holds it, false when a header value does.</param>
/// <param name="Message">One line for the caller: where, and which character.</param>
internal readonly record struct RequestTextProblem(bool InTarget, string Message)
{
    // A request target holds no whitespace at all (RFC 9112 section 3.2), so tab is refused there too.
    private static readonly SearchValues<char> TargetControlCharacters = SearchValues.Create(
        "\0\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f");

    /// <summary>The first problem in the raw request target or any header value, or null when there is none.</summary>
    public static RequestTextProblem? Find(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        var at = target.AsSpan().IndexOfAny(TargetControlCharacters);
        if (at >= 0)
        {
            return new(true, $"the request target holds a control character ({Describe(target[at])}); percent-encode it (e.g. %{(int)target[at]:X2})");
        }

        foreach (var (name, values) in context.Request.Headers)
        {
            foreach (var value in values)
            {
                if (value is not null && HeaderText.IndexOfControlCharacter(value) is >= 0 and var index)
                {
                    return new(false, $"the value of header {name} holds a control character ({Describe(value[index])}); header values may hold tab but no other control character");
                }
            }
        }

        return null;
    }

    /// <summary>
    /// <paramref name="text"/> for a log line, control characters written as \xNN: a caller's bytes
    /// (a refused target, or an ESC decoded from %1B) never reach the log as terminal commands or line breaks.
    /// </summary>
    public static string ForLog(string text)
    {
        if (!text.AsSpan().ContainsAny(TargetControlCharacters))
        {
            return text;
        }

        var printable = new System.Text.StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (TargetControlCharacters.Contains(c))
            {
                printable.Append("\\x").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                printable.Append(c);
            }
        }

        return printable.ToString();
    }

    private static string Describe(char c) => $"0x{(int)c:x2}";
}
