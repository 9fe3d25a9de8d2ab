using System.Globalization;
using Fwatchdog.Configuration;

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

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        var url = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/_/health";
        try
        {
            using var response = await client.GetAsync(url);
            if (response.IsSuccessStatusCode)
            {
                return 0;
            }

            await Console.Error.WriteLineAsync($"unhealthy: {url} answered {(int)response.StatusCode}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"unhealthy: {url}: {ex.Message}");
        }

        return 1;
    }
}
