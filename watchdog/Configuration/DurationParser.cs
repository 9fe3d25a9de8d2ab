using System.Globalization;

namespace Fwatchdog.Configuration;

/// <summary>
/// Parses OpenFaaS durations: a bare integer means seconds (<c>30</c>), otherwise Go duration
/// syntax made of number+unit pairs (<c>500ms</c>, <c>1m30s</c>, <c>1.5h</c>).
/// Unlike the classic watchdog, a value that parses as neither is an error, never a default.
/// </summary>
internal static class DurationParser
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        var s = text.Trim();
        if (s.Length == 0)
        {
            return false;
        }

        if (s.All(char.IsAsciiDigit))
        {
            if (!long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > int.MaxValue)
            {
                return false;
            }

            value = TimeSpan.FromSeconds(seconds);
            return true;
        }

        var total = 0.0;
        var i = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }

            if (i == start || !double.TryParse(s.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            var unitStart = i;
            while (i < s.Length && !char.IsAsciiDigit(s[i]) && s[i] != '.')
            {
                i++;
            }

            var unitMs = s[unitStart..i] switch
            {
                "ns" => 1e-6,
                "us" or "µs" => 1e-3,
                "ms" => 1.0,
                "s" => 1000.0,
                "m" => 60_000.0,
                "h" => 3_600_000.0,
                _ => double.NaN,
            };
            if (double.IsNaN(unitMs))
            {
                return false;
            }

            total += number * unitMs;
        }

        if (total > int.MaxValue * 1000.0)
        {
            return false;
        }

        value = TimeSpan.FromMilliseconds(total);
        return true;
    }

    /// <summary>Formats a duration the way users write it: <c>30s</c>, <c>500ms</c>, <c>1m30s</c>, <c>0</c>.</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0";
        }

        if (value.TotalSeconds < 1 || value.Milliseconds != 0)
        {
            return value.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";
        }

        var parts = new System.Text.StringBuilder();
        if (value.TotalHours >= 1)
        {
            parts.Append((int)value.TotalHours).Append('h');
        }

        if (value.Minutes != 0)
        {
            parts.Append(value.Minutes).Append('m');
        }

        if (value.Seconds != 0)
        {
            parts.Append(value.Seconds).Append('s');
        }

        return parts.ToString();
    }
}
