using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Fwatchdog.Tracing;

/// <summary>
/// Reads a caller's traceparent, tracestate and baggage by the W3C rules, for text nobody
/// vouches for: a malformed traceparent is ignored (the call starts a new trace), a tracestate
/// or baggage member that breaks the grammar is dropped, never passed on, and both are trimmed
/// to the bounds the recommendations set, so a caller cannot make us carry more than that.
/// </summary>
internal static class TraceHeaders
{
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";
    public const string Baggage = "baggage";

    /// <summary>tracestate: at most 32 members (Trace Context §3.3.1.1), and 512 characters is what every vendor must pass on (§3.3.1.5).</summary>
    public const int MaxStateMembers = 32;
    public const int MaxStateLength = 512;

    /// <summary>baggage: at most 64 members and 8192 bytes (Baggage §3.3.1).</summary>
    public const int MaxBaggageMembers = 64;
    public const int MaxBaggageLength = 8192;

    /// <summary>Text longer than this is not read at all: four times what may be kept, so trimming never scans a flood.</summary>
    private const int MaxReadLength = 4 * MaxBaggageLength;

    /// <summary>The names of the three headers, for header sets that must not copy the caller's.</summary>
    public static readonly string[] Names = [TraceParent, TraceState, Baggage];

    /// <summary>The caller's context, or null when it sent no usable traceparent (one value, well formed).</summary>
    public static TraceContext? Read(StringValues traceParent, StringValues traceState, StringValues baggage)
    {
        if (traceParent.Count != 1 || !TryParseParent(traceParent[0], out var traceId, out var spanId, out var sampled))
        {
            return null;
        }

        return new TraceContext(traceId, spanId, sampled, TrimState(traceState), TrimBaggage(baggage));
    }

    /// <summary>The context a request came with, or null.</summary>
    public static TraceContext? Read(IHeaderDictionary headers) => Read(headers[TraceParent], headers[TraceState], headers[Baggage]);

    /// <summary>The context kept in stored request headers (an async call's), or null.</summary>
    public static TraceContext? Read(IEnumerable<KeyValuePair<string, string>> headers)
    {
        StringValues parent = default, state = default, baggage = default;
        foreach (var (name, value) in headers)
        {
            if (name.Equals(TraceParent, StringComparison.OrdinalIgnoreCase))
            {
                parent = StringValues.Concat(parent, value);
            }
            else if (name.Equals(TraceState, StringComparison.OrdinalIgnoreCase))
            {
                state = StringValues.Concat(state, value);
            }
            else if (name.Equals(Baggage, StringComparison.OrdinalIgnoreCase))
            {
                baggage = StringValues.Concat(baggage, value);
            }
        }

        return Read(parent, state, baggage);
    }

    public static bool IsTraceHeader(string name) =>
        name.Equals(TraceParent, StringComparison.OrdinalIgnoreCase) || name.Equals(TraceState, StringComparison.OrdinalIgnoreCase) || name.Equals(Baggage, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// version-traceid-parentid-flags, lower-case hex. Version ff is invalid; version 00 is exactly
    /// 55 characters; a later version may add fields after a dash, which are ignored (§3.2.4).
    /// </summary>
    public static bool TryParseParent(string? value, out string traceId, out string spanId, out bool sampled)
    {
        traceId = spanId = "";
        sampled = false;
        if (value is null || value.Length < 55 || value[2] != '-' || value[35] != '-' || value[52] != '-'
            || !IsHex(value.AsSpan(0, 2)) || value.StartsWith("ff", StringComparison.Ordinal)
            || (value.StartsWith("00", StringComparison.Ordinal) ? value.Length != 55 : value.Length > 55 && value[55] != '-'))
        {
            return false;
        }

        var trace = value.AsSpan(3, 32);
        var span = value.AsSpan(36, 16);
        var flags = value.AsSpan(53, 2);
        if (!IsHex(trace) || !IsHex(span) || !IsHex(flags) || trace.IndexOfAnyExcept('0') < 0 || span.IndexOfAnyExcept('0') < 0)
        {
            return false;
        }

        traceId = trace.ToString();
        spanId = span.ToString();
        sampled = (Convert.ToByte(flags.ToString(), 16) & 1) == 1;
        return true;
    }

    /// <summary>
    /// The members that are well formed, the first 32, then within 512 characters: members over 128
    /// characters go first, then members from the end (§3.3.1.5). A repeated key makes the whole
    /// header invalid, and it is dropped.
    /// </summary>
    public static string? TrimState(StringValues values)
    {
        if (values.Count == 0)
        {
            return null;
        }

        var members = new List<string>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in Members(values))
        {
            var equals = member.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || !IsStateKey(member.AsSpan(0, equals)) || !IsStateValue(member.AsSpan(equals + 1)))
            {
                continue;
            }

            if (!keys.Add(member[..equals]))
            {
                return null;
            }

            members.Add(member);
        }

        if (members.Count > MaxStateMembers)
        {
            members.RemoveRange(MaxStateMembers, members.Count - MaxStateMembers);
        }

        while (Joined(members) > MaxStateLength && members.FindLastIndex(m => m.Length > 128) is var long_ && long_ >= 0)
        {
            members.RemoveAt(long_);
        }

        while (Joined(members) > MaxStateLength)
        {
            members.RemoveAt(members.Count - 1);
        }

        return members.Count == 0 ? null : string.Join(',', members);
    }

    /// <summary>The well-formed members, in order, while there are at most 64 and 8192 bytes of them.</summary>
    public static string? TrimBaggage(StringValues values)
    {
        if (values.Count == 0)
        {
            return null;
        }

        var kept = new StringBuilder();
        var count = 0;
        foreach (var member in Members(values))
        {
            if (!IsBaggageMember(member))
            {
                continue;
            }

            if (count == MaxBaggageMembers || kept.Length + (count > 0 ? 1 : 0) + member.Length > MaxBaggageLength)
            {
                break;
            }

            kept.Append(count++ > 0 ? "," : "").Append(member);
        }

        return count == 0 ? null : kept.ToString();
    }

    /// <summary>The comma-separated members of every value, blanks trimmed and empty ones skipped; nothing from a value too long to read.</summary>
    private static IEnumerable<string> Members(StringValues values)
    {
        foreach (var value in values)
        {
            if (value is null || value.Length > MaxReadLength)
            {
                continue;
            }

            foreach (var member in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                yield return member;
            }
        }
    }

    private static int Joined(List<string> members) => members.Sum(m => m.Length) + Math.Max(0, members.Count - 1);

    /// <summary>simple-key = lcalpha 0*255(lcalpha / DIGIT / "_" / "-" / "*" / "/"); multi-tenant-key = tenant-id "@" system-id.</summary>
    private static bool IsStateKey(ReadOnlySpan<char> key)
    {
        var at = key.IndexOf('@');
        if (at < 0)
        {
            return key.Length <= 256 && char.IsAsciiLetterLower(key[0]) && IsKeyChars(key[1..]);
        }

        var tenant = key[..at];
        var system = key[(at + 1)..];
        return tenant.Length is > 0 and <= 241 && (char.IsAsciiLetterLower(tenant[0]) || char.IsAsciiDigit(tenant[0])) && IsKeyChars(tenant[1..])
            && system.Length is > 0 and <= 14 && char.IsAsciiLetterLower(system[0]) && IsKeyChars(system[1..]);
    }

    private static bool IsKeyChars(ReadOnlySpan<char> chars)
    {
        foreach (var c in chars)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-' or '*' or '/'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E.</summary>
    private static bool IsStateValue(ReadOnlySpan<char> value)
    {
        if (value.Length is 0 or > 256 || value[^1] == ' ')
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is < ' ' or > '~' or ',' or '=')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>key OWS "=" OWS value *(OWS ";" OWS property); key is an RFC 7230 token, value is baggage-octets.</summary>
    private static bool IsBaggageMember(string member)
    {
        var parts = member.Split(';', StringSplitOptions.TrimEntries);
        var equals = parts[0].IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || !IsToken(parts[0].AsSpan(0, equals).TrimEnd(' ')) || !IsBaggageValue(parts[0].AsSpan(equals + 1).TrimStart(' ')))
        {
            return false;
        }

        foreach (var property in parts.AsSpan(1))
        {
            var eq = property.IndexOf('=', StringComparison.Ordinal);
            var ok = eq < 0 ? IsToken(property) : IsToken(property.AsSpan(0, eq).TrimEnd(' ')) && IsBaggageValue(property.AsSpan(eq + 1).TrimStart(' '));
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsToken(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E.</summary>
    private static bool IsBaggageValue(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (c is <= ' ' or > '~' or '"' or ',' or ';' or '\\')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsHex(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!(char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }
}
