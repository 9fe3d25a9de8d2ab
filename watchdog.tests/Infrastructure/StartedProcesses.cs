using System.Collections.Concurrent;

namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// Processes the test run started that could outlive it. A spec that times out never reaches its
/// <c>await using</c>, so its server would be left running after the test host exits: when the test host exits, whatever is still alive here is killed with its tree.
/// </summary>
internal static class StartedProcesses
{
    private static readonly ConcurrentDictionary<Process, byte> Live = new();

    static StartedProcesses()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
    }

    public static Process Track(Process process)
    {
        Live[process] = 0;
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => Live.TryRemove(process, out _);
        if (process.HasExited)
        {
            Live.TryRemove(process, out _);
        }

        return process;
    }

    private static void KillAll()
    {
        foreach (var process in Live.Keys)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Exited meanwhile.
            }
        }
    }
}
