using System.Diagnostics;

namespace Fwatchdog.Tests.Infrastructure;

/// <summary>Runs a system command a spec needs for a fault (mount, chattr, python3), bounded in time.</summary>
internal static class Commands
{
    /// <summary>Runs <paramref name="command"/> to its end; fails the spec with its stderr unless it exits 0.</summary>
    public static async Task RunAsync(string command, params string[] args)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException(command + " did not start");
        var error = await process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        process.ExitCode.Should().Be(0, $"{command} {string.Join(' ', args)} failed: {error}");
    }
}
