using System.Globalization;

namespace Fwatchdog.Configuration;

/// <summary>
/// Reads typed values for <see cref="SettingDefinition"/>s from flags (which win) and the
/// environment, collecting every error instead of stopping at the first.
/// </summary>
internal sealed class SettingReader(IReadOnlyDictionary<string, string?> environment, IReadOnlyDictionary<string, string> flags)
{
    private readonly List<string> _errors = [];

    public IReadOnlyList<string> Errors => _errors;

    /// <summary>The raw text for a setting and where it came from, or null when unset or empty.</summary>
    public (string Value, string Source)? Raw(SettingDefinition setting)
    {
        if (flags.TryGetValue(setting.Name, out var flag))
        {
            return (flag, "--" + setting.Name);
        }

        foreach (var name in setting.Aliases.Prepend(setting.Name))
        {
            if (environment.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value))
            {
                return (value, "env " + name);
            }
        }

        return null;
    }

    public void Fail(SettingDefinition setting, string value, string source, string problem) =>
        _errors.Add($"{setting.Name}=\"{value}\" ({source}): {problem}; use e.g. {setting.Example}");

    public void Missing(SettingDefinition setting, string problem) =>
        _errors.Add($"{setting.Name} is not set: {problem}; set it, e.g. {setting.Example}");

    public string Text(SettingDefinition setting, string fallback) => Raw(setting)?.Value ?? fallback;

    public TimeSpan Duration(SettingDefinition setting, TimeSpan fallback)
    {
        if (Raw(setting) is not var (value, source))
        {
            return fallback;
        }

        if (DurationParser.TryParse(value, out var parsed))
        {
            return parsed;
        }

        Fail(setting, value, source, "not a duration (seconds, or a number with ms, s, m or h; not negative)");
        return fallback;
    }

    public bool Boolean(SettingDefinition setting, bool fallback)
    {
        if (Raw(setting) is not var (value, source))
        {
            return fallback;
        }

        switch (value.Trim().ToLowerInvariant())
        {
            // Everything Go's strconv.ParseBool takes (the OpenFaaS watchdogs' parser), and yes/no, on/off.
            case "true" or "t" or "1" or "yes" or "on":
                return true;
            case "false" or "f" or "0" or "no" or "off":
                return false;
            default:
                Fail(setting, value, source, "not a boolean (true/false, t/f, 1/0, yes/no, on/off)");
                return fallback;
        }
    }

    public int Count(SettingDefinition setting, int fallback, int max = int.MaxValue)
    {
        if (Raw(setting) is not var (value, source))
        {
            return fallback;
        }

        if (int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed <= max)
        {
            return parsed;
        }

        Fail(setting, value, source, max == int.MaxValue
            ? "not a whole number of 0 or more"
            : $"not a whole number from 0 to {max.ToString(CultureInfo.InvariantCulture)}");
        return fallback;
    }

    public long Bytes(SettingDefinition setting, long fallback)
    {
        if (Raw(setting) is not var (value, source))
        {
            return fallback;
        }

        if (ByteSizeParser.TryParse(value, out var parsed))
        {
            return parsed;
        }

        Fail(setting, value, source, "not a size (bytes, or a number with KB, KiB, MB, MiB, GB or GiB)");
        return fallback;
    }
}
