using System.Collections;
using System.CommandLine;
using Fwatchdog.Configuration;

namespace Fwatchdog.Cli;

/// <summary>
/// The command line: one <c>--name</c> flag per setting (also <c>--kebab-name</c>), which wins over
/// the environment variable of the same name, plus <c>--run-healthcheck</c>.
/// </summary>
internal static class WatchdogCommand
{
    public const int ConfigErrorExitCode = 2;

    public static RootCommand Build()
    {
        var root = new RootCommand("fwatchdog: runs a process for every HTTP request (an OpenFaaS classic watchdog drop-in). "
            + "Every option can also be set with the environment variable of the same name.");
        var settings = new SettingOptions(root, WatchdogSettings.All);
        var healthcheck = new Option<bool>("--run-healthcheck")
        {
            Description = "Ask the watchdog on this machine for /_/health and exit 0 when healthy, 1 otherwise (for a Docker HEALTHCHECK). "
                + "The classic spelling -run-healthcheck works too.",
        };
        root.Options.Add(healthcheck);

        // `fwatchdog gateway --version` prints the version too, as other tools' subcommands do.
        foreach (var version in root.Options.OfType<VersionOption>())
        {
            version.Recursive = true;
        }

        root.SetAction(async (parse, _) =>
        {
            var flags = settings.Given(parse);
            var environment = ReadEnvironment();
            if (parse.GetValue(healthcheck))
            {
                return await HealthcheckProbe.RunAsync(environment, flags);
            }

            WarnAboutTypos(environment);
            var outcome = WatchdogOptions.Parse(environment, flags);
            if (outcome.Value is not { } options)
            {
                return ReportConfigErrors(outcome.Errors);
            }

            return await StartupFailure.RunAsync(() => WatchdogApp.Create(options), app => app.RunAsync(),
                options.BindAddress, ("port", options.Port), ("metrics_port", options.MetricsPort));
        });
#if WATCHDOG_ONLY
        root.Subcommands.Add(NoGatewayCommand());
#else
        root.Subcommands.Add(GatewayCommand.Build());
#endif
        return root;
    }

#if WATCHDOG_ONLY
    /// <summary>The watchdog-only build (function images) says where the gateway is instead of "unrecognized command".</summary>
    private static Command NoGatewayCommand()
    {
        var command = new Command("gateway", "Not in this build: this fwatchdog is the watchdog-only build for function images.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("fwatchdog: this is the watchdog-only build (for function images), which has no gateway. "
                + "Run the gateway from the full build: the gateway image (docs/deploy.md) or `deploy/publish RID OUTPUT_DIR`.");
            return ConfigErrorExitCode;
        });
        return command;
    }

#endif
    public static async Task<int> RunAsync(string[] args)
    {
        var parse = Build().Parse(args.Select(ClassicSpelling).ToArray());
        if (parse.Errors.Count > 0)
        {
            return ReportConfigErrors(parse.Errors.Select(e => WithFlagSuggestion(e.Message, parse)).ToList());
        }

        // System.CommandLine would otherwise take SIGTERM itself and kill us 2 s later; the
        // watchdog owns SIGTERM so it can drain the OpenFaaS way (WatchdogApp.DrainAsync).
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    /// <summary>
    /// The classic watchdog's <c>-run-healthcheck</c> (Go's one-dash flag), taken as
    /// <c>--run-healthcheck</c> here rather than as an alias, which help would list in place of the
    /// documented spelling.
    /// </summary>
    private static string ClassicSpelling(string arg) => arg == "-run-healthcheck" ? "--run-healthcheck" : arg;

    /// <summary>"Unrecognized command or argument '--exec-timout'" plus the flag it resembles, if one does.</summary>
    private static string WithFlagSuggestion(string message, ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var flags = command.Options.Where(o => o.Name.StartsWith("--", StringComparison.Ordinal)).Select(o => o.Name[2..]);
        var mistyped = parse.UnmatchedTokens.FirstOrDefault(t => t.StartsWith('-') && message.Contains($"'{t}'", StringComparison.Ordinal));
        if (mistyped is null || NameSuggestion.Closest(mistyped.TrimStart('-'), flags) is not { } closest)
        {
            return message;
        }

        // Suggest it in the spelling the user chose: --exec-timeout for --exec-timout.
        var spelled = mistyped.TrimStart('-').Contains('-', StringComparison.Ordinal) ? closest.Replace('_', '-') : closest;
        return $"{message.TrimEnd('.')}; did you mean --{spelled}?";
    }

    /// <summary>Warns (on stderr, before anything starts) about environment variables that look like a mistyped setting.</summary>
    public static void WarnAboutTypos(IReadOnlyDictionary<string, string?> environment)
    {
        foreach (var warning in SettingTypos.Warnings(environment.Keys, KnownSettings))
        {
            Console.Error.WriteLine("fwatchdog: warning: " + warning);
        }

        foreach (var warning in Tracing.TraceExport.Warnings(environment))
        {
            Console.Error.WriteLine("fwatchdog: warning: " + warning);
        }
    }

    /// <summary>
    /// The settings of both commands: a local function inherits the gateway's environment, so a
    /// watchdog setting there is no typo, nor is a gateway setting in a watchdog's.
    /// </summary>
    private static IReadOnlyCollection<SettingDefinition> KnownSettings =>
#if WATCHDOG_ONLY
        WatchdogSettings.All;
#else
        [.. WatchdogSettings.All, .. Gateway.GatewaySettings.All];
#endif

    public static int ReportConfigErrors(IReadOnlyList<string> errors)
    {
        Console.Error.WriteLine($"fwatchdog: invalid configuration ({errors.Count} problem{(errors.Count == 1 ? "" : "s")}):");
        foreach (var error in errors)
        {
            Console.Error.WriteLine("  - " + error);
        }

        return ConfigErrorExitCode;
    }

    public static Dictionary<string, string?> ReadEnvironment()
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            environment[(string)entry.Key] = entry.Value as string;
        }

        return environment;
    }
}
