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

        // `fwatchdog gateway --version` too (issue 11, finding 3).
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
            return ReportConfigErrors(parse.Errors.Select(e => e.Message).ToList());
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
