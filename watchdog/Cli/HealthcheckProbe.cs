using System.Globalization;
using System.Net.Sockets;
using Fwatchdog.Configuration;
using Fwatchdog.Forwarding;

namespace Fwatchdog.Cli;

/// <summary>
/// <c>--run-healthcheck</c>: asks the running watchdog on 127.0.0.1:<c>port</c> for
/// <c>/_/health</c>. Unlike the classic probe (lock file only) it works with suppress_lock and
/// reports a draining watchdog as unhealthy.
/// </summary>
internal static class HealthcheckProbe
{
    public static async Task<int> RunAsync(IReadOnlyDictionary<string, string?> environment, IReadOnlyDictionary<string, string> flags)
    {
        var read = new SettingReader(environment, flags);
        var port = read.Count(WatchdogSettings.Port, 8080, 65535);
        if (read.Errors.Count > 0)
        {
            return WatchdogCommand.ReportConfigErrors(read.Errors);
        }

        var authority = $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        var url = $"http://{authority}/_/health";
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            var status = await Http1Probe.GetStatusAsync("127.0.0.1", port, authority, "/_/health", timeout.Token);
            if (status is >= 200 and < 300)
            {
                return 0;
            }

            await Console.Error.WriteLineAsync($"unhealthy: {url} answered {status}");
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"unhealthy: {url}: {(ex is OperationCanceledException ? "no answer within 3 s" : ex.Message)}");
        }

        return 1;
    }
}
