namespace Fwatchdog.Gateway.Functions;

/// <summary>
/// A function the gateway can call: its metrics label (<c>name</c>, or <c>name.namespace</c> for
/// templated ones), its base address and the limits that apply to it.
/// </summary>
internal sealed record FunctionTarget(string Name, Uri BaseUri, TimeSpan Timeout, int MaxAttempts, int MaxConcurrency);
