namespace Fwatchdog.Gateway.Ui;

/// <summary>
/// <c>GET /ui/api/functions</c>: whether basic_auth is on (then whoever sees the console holds the
/// operator's credentials and opens any call) and the numbers per function.
/// </summary>
internal sealed record ConsoleOverview(bool BasicAuth, ConsoleFunction[] Functions);
