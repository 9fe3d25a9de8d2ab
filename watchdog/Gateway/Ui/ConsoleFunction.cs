namespace Fwatchdog.Gateway.Ui;

/// <summary>
/// One function in <c>GET /ui/api/functions</c>: completed calls and those that ended 500
/// or above since the gateway started, and its async calls queued and running (running on this
/// gateway; with several gateways on NATS, another's running calls count as queued here).
/// Queued and running are absent when the queue cannot be read.
/// </summary>
internal sealed record ConsoleFunction(string Name, long InvocationCount, long ErrorCount, long? Queued, long? Running);
