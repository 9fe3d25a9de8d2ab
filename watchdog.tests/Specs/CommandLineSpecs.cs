using System.Text.RegularExpressions;
using Fwatchdog.Configuration;
using Fwatchdog.Gateway;

namespace Fwatchdog.Tests.Specs;

/// <summary><c>--help</c> and <c>--version</c> of both commands, and what a mistyped setting gets.</summary>
public sealed class CommandLineSpecs
{
    private static readonly Dictionary<string, string> NoSettings = [];

    [Theory(Timeout = 60_000)]
    [InlineData("--version")]
    [InlineData("gateway", "--version")]
    public async Task Version_prints_the_version_and_exits_0(params string[] args)
    {
        var (exitCode, output) = await WatchdogProcess.RunAsync(NoSettings, args);

        exitCode.Should().Be(0, output);
        output.Trim().Should().MatchRegex(@"^\d+\.\d+\.\d+");
    }

    [Fact(Timeout = 60_000)]
    public async Task Watchdog_help_lists_every_setting_and_run_healthcheck_with_two_dashes()
    {
        var (exitCode, help) = await WatchdogProcess.RunAsync(NoSettings, "--help");

        exitCode.Should().Be(0, help);
        foreach (var setting in WatchdogSettings.All)
        {
            help.Should().Contain("--" + setting.Name, $"{setting.Name} is a setting");
        }

        OptionLines(help).Should().Contain(l => l.StartsWith("--run-healthcheck ", StringComparison.Ordinal));
        OptionLines(help).Should().NotContain(l => l.StartsWith("-run-healthcheck", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task Gateway_help_lists_every_gateway_setting()
    {
        var (exitCode, help) = await WatchdogProcess.RunAsync(NoSettings, "gateway", "--help");

        exitCode.Should().Be(0, help);
        foreach (var setting in GatewaySettings.All)
        {
            help.Should().Contain("--" + setting.Name, $"{setting.Name} is a gateway setting");
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData("--help")]
    [InlineData("gateway", "--help")]
    public async Task Help_never_shows_an_empty_default(params string[] args)
    {
        var (_, help) = await WatchdogProcess.RunAsync(NoSettings, args);

        help.Should().NotMatchRegex(@"Default: \.(\s|$)");
        if (args.Length == 1)
        {
            OptionLines(help).Single(l => l.StartsWith("--content-type", StringComparison.Ordinal)).Should().Contain("Default: (none).");
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task The_classic_one_dash_run_healthcheck_still_asks_the_watchdog()
    {
        using var closed = new ClosedPort();

        var (exitCode, output) = await WatchdogProcess.RunAsync(new Dictionary<string, string> { ["port"] = closed.Text }, "-run-healthcheck");

        exitCode.Should().Be(1, $"nothing listens on {closed.Port}, so it is unhealthy (2 would be a parse error): {output}");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_mistyped_setting_in_the_environment_is_warned_about_at_start_and_the_watchdog_still_serves()
    {
        await using var watchdog = WatchdogProcess.Start(new Dictionary<string, string>
        {
            ["fprocess"] = "cat",
            ["port"] = "0",
            ["metrics_port"] = "0",
            ["suppress_lock"] = "true",
            ["exec_timout"] = "1s",
        });
        await watchdog.WaitUntilListeningAsync();

        using var client = new HttpClient();
        using var response = await client.PostAsync(watchdog.Url, new StringContent("still served"));
        (await response.Content.ReadAsStringAsync()).Should().Be("still served", "a warning does not stop the watchdog: the environment is shared with the function");
        watchdog.Output.Should().Contain("fwatchdog: warning: env exec_timout is not a setting and is not read; did you mean exec_timeout?");
    }

    [Theory(Timeout = 60_000)]
    [InlineData("--exec-timout", "did you mean --exec-timeout?")]
    [InlineData("--exec_timout", "did you mean --exec_timeout?")]
    public async Task A_mistyped_flag_is_refused_naming_the_flag_it_resembles(string flag, string suggestion)
    {
        var (exitCode, output) = await WatchdogProcess.RunAsync(new Dictionary<string, string> { ["fprocess"] = "cat" }, flag, "5s");

        exitCode.Should().Be(2, output);
        output.Should().Contain($"Unrecognized command or argument '{flag}'; {suggestion}");
    }

    [Fact(Timeout = 60_000)]
    public async Task The_gateway_warns_about_a_mistyped_setting_too()
    {
        var (exitCode, output) = await WatchdogProcess.RunAsync(new Dictionary<string, string> { ["upstream_timout"] = "5s" }, "gateway");

        exitCode.Should().Be(2, "no stack file is given; the warning comes first: " + output);
        output.Should().Contain("fwatchdog: warning: env upstream_timout is not a setting and is not read; did you mean upstream_timeout?");
    }

    private static IEnumerable<string> OptionLines(string help) =>
        Regex.Split(help, @"\r?\n").Select(l => l.Trim()).Where(l => l.StartsWith('-'));
}
