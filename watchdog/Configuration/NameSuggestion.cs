namespace Fwatchdog.Configuration;

/// <summary>The known name a mistyped one most resembles, for "did you mean ...?" in messages.</summary>
internal static class NameSuggestion
{
    /// <summary>
    /// The known name closest to <paramref name="given"/> by edit distance, ignoring case and
    /// treating <c>-</c> as <c>_</c>; null when none is close: at most 2 edits, or 1 for names of 5
    /// characters or fewer, where 2 edits would make most short words look alike.
    /// </summary>
    public static string? Closest(string given, IEnumerable<string> known)
    {
        var normal = Normalise(given);
        var allowed = normal.Length <= 5 ? 1 : 2;
        return known
            .Select(name => (Name: name, Distance: Distance(normal, Normalise(name))))
            .Where(c => c.Distance <= allowed)
            .OrderBy(c => c.Distance)
            .ThenBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => c.Name)
            .FirstOrDefault();
    }

    private static string Normalise(string name) => name.ToLowerInvariant().Replace('-', '_');

    /// <summary>Edit distance counting an insertion, deletion, substitution or swap of two neighbours as one edit.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
