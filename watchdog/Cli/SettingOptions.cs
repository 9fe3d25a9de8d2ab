using System.CommandLine;
using Fwatchdog.Configuration;

namespace Fwatchdog.Cli;

/// <summary>One <c>--name</c> option (also <c>--kebab-name</c> and aliases) per setting, and reading back the ones given.</summary>
internal sealed class SettingOptions
{
    private readonly List<(SettingDefinition Setting, Option<string> Option)> _options = [];

    public SettingOptions(Command command, IReadOnlyList<SettingDefinition> settings)
    {
        foreach (var setting in settings)
        {
            var option = new Option<string>("--" + setting.Name)
            {
                Description = $"{setting.Description} Default: {(setting.Default.Length == 0 ? "(none)" : setting.Default)}.",
                HelpName = setting.Kind.ToString().ToLowerInvariant(),
            };
            if (setting.Name.Contains('_', StringComparison.Ordinal))
            {
                option.Aliases.Add("--" + setting.Name.Replace('_', '-'));
            }

            foreach (var alias in setting.Aliases)
            {
                option.Aliases.Add("--" + alias);
            }

            command.Options.Add(option);
            _options.Add((setting, option));
        }
    }

    /// <summary>The flags given on the command line, by setting name.</summary>
    public Dictionary<string, string> Given(ParseResult parse)
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (setting, option) in _options)
        {
            if (parse.GetResult(option) is { Implicit: false } && parse.GetValue(option) is { } value)
            {
                flags[setting.Name] = value;
            }
        }

        return flags;
    }
}
