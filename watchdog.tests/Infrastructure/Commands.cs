namespace Fwatchdog.Tests.Infrastructure;

/// <summary>Runs a system command a spec needs (mount, chattr, python3, git, dotnet, a publish script), bounded in time.</summary>
internal static class Commands
{
    /// <summary>Runs <paramref name="command"/> to its end; fails the spec with its output unless it exits 0.</summary>
    public static async Task RunAsync(string command, params string[] args)
    {
        var (exitCode, output) = await CaptureAsync(command, args, TimeSpan.FromSeconds(30));
        exitCode.Should().Be(0, $"{command} {string.Join(' ', args)} failed: {output}");
    }

    /// <summary>
    /// Runs <paramref name="command"/> and returns its exit code and its stdout followed by its stderr. A command
    /// still running after <paramref name="within"/> is killed with its children and fails with a <see cref="TimeoutException"/>.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> CaptureAsync(string command, IEnumerable<string> args, TimeSpan within,
        string? directory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (directory is not null)
        {
            info.WorkingDirectory = directory;
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException(command + " did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} {string.Join(' ', args)} took over {within}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
