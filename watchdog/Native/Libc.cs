using System.Runtime.InteropServices;

namespace Fwatchdog.Native;

/// <summary>The few libc calls .NET does not expose: group signals, access checks and reaping.</summary>
internal static partial class Libc
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int X_OK = 1;
    public const int WNOHANG = 1;
    public const int ECHILD = 10;
    public const int ESRCH = 3;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Access(string path, int mode);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    public static partial int WaitPid(int pid, out int status, int options);

    /// <summary>Sends <paramref name="signal"/> to every process in the group led by <paramref name="pgid"/>.</summary>
    public static bool SignalGroup(int pgid, int signal) => pgid > 1 && Kill(-pgid, signal) == 0;
}
