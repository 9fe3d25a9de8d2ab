namespace Fwatchdog.Configuration;

/// <summary>
/// One public setting: read from the environment variable <see cref="Name"/> (or an alias) and
/// from the CLI flag <c>--Name</c>; the flag wins. The same table drives parsing and <c>--help</c>;
/// the settings tables of docs/watchdog.md and docs/gateway.md list every entry (a spec checks).
/// </summary>
internal sealed record SettingDefinition(
    string Name,
    SettingKind Kind,
    string Default,
    string Example,
    string Description,
    params string[] Aliases);
