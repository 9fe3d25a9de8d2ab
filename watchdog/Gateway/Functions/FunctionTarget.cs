namespace Fwatchdog.Gateway.Functions;

/// <summary>
/// A function the gateway can call: its metrics label (<c>name</c>, or <c>name.namespace</c> for
/// templated ones), its base address and the limits that apply to it. <paramref name="CheckAddress"/>
/// is set when a caller's name chose the host (upstream_template): then every connection to it
/// goes through <see cref="Reach.CheckedConnect"/>.
/// </summary>
internal sealed record FunctionTarget(string Name, Uri BaseUri, TimeSpan Timeout, int MaxAttempts, int MaxConcurrency, bool CheckAddress = false);
