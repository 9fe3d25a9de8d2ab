namespace Fwatchdog.Configuration;

/// <summary>
/// Environment variables that look like a mistyped setting (<c>exec_timout</c>, <c>EXEC_TIMEOUT</c>).
/// The environment is shared with the function and the system, so these are warnings, never
/// errors, and only for names that look like ours: lower case ones within a few edits of a
/// setting, and upper case ones that are a setting with an underscore in the wrong case
/// (<c>PORT</c>, <c>HOME</c> and <c>PATH</c> belong to the system and are left alone).
/// </summary>
internal static class SettingTypos
{
    /// <summary>One warning per suspect variable, naming the setting it resembles.</summary>
    public static IReadOnlyList<string> Warnings(IEnumerable<string> environmentNames, IReadOnlyCollection<SettingDefinition> settings)
    {
        var known = settings.SelectMany(s => s.Aliases.Prepend(s.Name)).ToHashSet(StringComparer.Ordinal);
        var warnings = new List<string>();
        foreach (var name in environmentNames.Where(n => !known.Contains(n)).Order(StringComparer.Ordinal))
        {
            if (name.Any(char.IsAsciiLetterUpper))
            {
                var lower = name.ToLowerInvariant();
                if (lower.Contains('_', StringComparison.Ordinal) && known.Contains(lower))
                {
                    warnings.Add($"env {name} is not read: settings are lower case; did you mean {lower}?");
                }
            }
            else if (name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_') && NameSuggestion.Closest(name, known) is { } closest)
            {
                warnings.Add($"env {name} is not a setting and is not read; did you mean {closest}?");
            }
        }

        return warnings;
    }
}
