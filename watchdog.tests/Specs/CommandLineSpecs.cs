using System.Globalization;
using System.Text.RegularExpressions;
using Fwatchdog.Configuration;
using Fwatchdog.Gateway;
using Fwatchdog.Tests.Infrastructure;

namespace Fwatchdog.Tests.Specs;

/// <summary><c>--help</c> and <c>--version</c> of both commands.</summary>
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

    private static IEnumerable<string> OptionLines(string help) =>
        Regex.Split(help, @"\r?\n").Select(l => l.Trim()).Where(l => l.StartsWith('-'));
}
