using FluentAssertions.Equivalency;
using Fwatchdog.Configuration;
using Fwatchdog.Gateway;

namespace Fwatchdog.Tests.Configuration;

/// <summary>
/// The default that <c>--help</c> and the README show for a setting is the value used when it is
/// unset: setting each one to its shown default changes no option.
/// </summary>
public sealed class SettingDefaultsTests
{
    private static readonly Dictionary<string, string> NoFlags = [];

    public static TheoryData<string> WatchdogDefaults => ShownValues(WatchdogSettings.All);

    public static TheoryData<string> GatewayDefaults => ShownValues(GatewaySettings.All);

    [Theory]
    [MemberData(nameof(WatchdogDefaults))]
    public void A_watchdog_setting_set_to_its_shown_default_changes_nothing(string name) =>
        SetToShownDefault(WatchdogSettings.All, name, ("fprocess", "cat"), env => WatchdogOptions.Parse(env, NoFlags), o => o.ComparingByMembers<WatchdogOptions>());

    [Theory]
    [MemberData(nameof(GatewayDefaults))]
    public void A_gateway_setting_set_to_its_shown_default_changes_nothing(string name) =>
        SetToShownDefault(GatewaySettings.All, name, ("upstream_template", "http://{name}:8080"), env => GatewayOptions.Parse(env, NoFlags),
            o => o.ComparingByMembers<GatewayOptions>().ComparingByMembers<NatsQueueOptions>());

    private static void SetToShownDefault<T>(IReadOnlyList<SettingDefinition> settings, string name, (string Name, string Value) needed,
        Func<Dictionary<string, string?>, ParseOutcome<T>> parse, Func<EquivalencyAssertionOptions<T>, EquivalencyAssertionOptions<T>> byMembers)
        where T : class
    {
        var setting = settings.Single(s => s.Name == name);
        var unset = parse(new() { [needed.Name] = needed.Value }).Value ?? throw new InvalidOperationException("the options with only " + needed.Name + " set do not parse");
        var set = parse(new() { [needed.Name] = needed.Value, [name] = setting.Default });

        set.Errors.Should().BeEmpty();
        set.Value.Should().BeEquivalentTo(unset, byMembers);
    }

    /// <summary>Settings whose shown default is a value one could type, not a description such as "(none)", "$TMPDIR/.lock" or another setting's name.</summary>
    private static TheoryData<string> ShownValues(IReadOnlyList<SettingDefinition> settings)
    {
        var data = new TheoryData<string>();
        foreach (var setting in settings.Where(s => s.Default.Length > 0 && !s.Default.StartsWith('(') && !s.Default.Contains('$', StringComparison.Ordinal)
            && settings.All(other => other.Name != s.Default)))
        {
            data.Add(setting.Name);
        }

        return data;
    }
}
