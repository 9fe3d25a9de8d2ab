using System.Globalization;

namespace Fwatchdog.Configuration;

/// <summary>Parses sizes such as <c>1048576</c>, <c>64KiB</c>, <c>10MB</c> or <c>1GiB</c> into bytes.</summary>
internal static class ByteSizeParser
{
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var s = text.Trim();
        var split = 0;
        while (split < s.Length && char.IsAsciiDigit(s[split]))
        {
            split++;
        }

        if (split == 0 || !long.TryParse(s.AsSpan(0, split), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        long? multiplier = s[split..].Trim().ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "K" or "KB" => 1000,
            "KI" or "KIB" => 1L << 10,
            "M" or "MB" => 1000_000,
            "MI" or "MIB" => 1L << 20,
            "G" or "GB" => 1000_000_000,
            "GI" or "GIB" => 1L << 30,
            _ => null,
        };
        if (multiplier is not { } m || number > long.MaxValue / m)
        {
            return false;
        }

        bytes = number * m;
        return true;
    }
}
