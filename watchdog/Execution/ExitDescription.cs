namespace Fwatchdog.Execution;

/// <summary>Turns exit codes into sentences: "exited with code 3", "was killed by signal 9 (SIGKILL)".</summary>
internal static class ExitDescription
{
    private static readonly string[] SignalNames =
    [
        "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
        "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
    ];

    /// <summary>.NET reports a process killed by signal N as exit code 128+N.</summary>
    public static string Describe(int exitCode) => exitCode is > 128 and < 128 + 16
        ? $"was killed by signal {exitCode - 128} ({SignalNames[exitCode - 128]}) or exited with code {exitCode}"
        : $"exited with code {exitCode}";
}
