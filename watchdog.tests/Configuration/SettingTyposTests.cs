using Fwatchdog.Configuration;

namespace Fwatchdog.Tests.Configuration;

public sealed class SettingTyposTests : FastTier
{
    [Theory]
    [InlineData("exec_timout", "env exec_timout is not a setting and is not read; did you mean exec_timeout?")]
    [InlineData("fprocces", "env fprocces is not a setting and is not read; did you mean fprocess?")]
    [InlineData("mod", "env mod is not a setting and is not read; did you mean mode?")]
    [InlineData("mdoe", "env mdoe is not a setting and is not read; did you mean mode?")]
    [InlineData("upstream_ur", "env upstream_ur is not a setting and is not read; did you mean upstream_url?")]
    [InlineData("EXEC_TIMEOUT", "env EXEC_TIMEOUT is not read: settings are lower case; did you mean exec_timeout?")]
    [InlineData("exec_timeout", "")]
    [InlineData("function_process", "")]
    [InlineData("PORT", "")]
    [InlineData("HOME", "")]
    [InlineData("PATH", "")]
    [InlineData("Http_Method", "")]
    [InlineData("http_proxy", "")]
    [InlineData("no_proxy", "")]
    [InlineData("my_app_setting", "")]
    [InlineData("exec_tmt", "")]
    public void An_environment_variable_close_to_a_setting_is_warned_about_and_others_are_not(string name, string warning) =>
        string.Join("\n", SettingTypos.Warnings([name], WatchdogSettings.All)).Should().Be(warning);

    [Theory]
    [InlineData("nmae", new[] { "echo", "name", "word-count" }, "name")]
    [InlineData("word-cont", new[] { "echo", "word-count" }, "word-count")]
    [InlineData("word_count", new[] { "echo", "word-count" }, "word-count")]
    [InlineData("ECHO", new[] { "echo" }, "echo")]
    [InlineData("resize", new[] { "echo", "word-count" }, null)]
    [InlineData("ab", new[] { "xy" }, null)]
    public void The_closest_name_is_suggested_only_when_it_is_a_few_edits_away(string given, string[] known, string? closest) =>
        NameSuggestion.Closest(given, known).Should().Be(closest);
}
