namespace Fwatchdog.Configuration;

/// <summary>How a setting's text is read; each kind has one parser and one example of a good value.</summary>
internal enum SettingKind
{
    Text,
    Command,
    Duration,
    Count,
    Port,
    Bytes,
    Boolean,
}
