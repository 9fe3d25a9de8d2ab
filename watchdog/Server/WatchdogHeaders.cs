namespace Fwatchdog.Server;

/// <summary>Headers the watchdog reads or sets.</summary>
internal static class WatchdogHeaders
{
    /// <summary>Call id: taken from the request when sent, created otherwise, always returned.</summary>
    public const string CallId = "X-Call-Id";

    /// <summary>Unix nanoseconds when the gateway took the call: passed on to the function as the caller sent it.</summary>
    public const string StartTime = "X-Start-Time";

    /// <summary>Seconds from the start of the request to the response headers, 6 decimals (OpenFaaS).</summary>
    public const string Duration = "X-Duration-Seconds";

    /// <summary>On error responses: a stable token saying why (exec-timeout, exit-code, ...).</summary>
    public const string Reason = "X-Watchdog-Reason";
}
