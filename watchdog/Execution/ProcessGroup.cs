using Fwatchdog.Native;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Execution;

/// <summary>
/// Stops one run's process group politely: SIGTERM to the group, <c>kill_grace</c> for it to
/// exit, then SIGKILL to the group. Every wait is bounded: when the pipes
/// stay open after that, even with the group already empty, what holds them left the group
/// (setsid) and would hold the call for as long as it lives, so it is stopped the same way; if
/// it cannot be, the runner's forceful cancellation stops waiting for the pipes.
/// </summary>
internal sealed partial class ProcessGroup(
    int pgid, bool isGroupLeader, TimeSpan grace, Task run, CancellationTokenSource forceful, PipeHolders holders, ILogger logger)
{
    private int _stopping;

    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopping, 1) == 0)
        {
            _ = StopAsync();
        }
    }

    private async Task StopAsync()
    {
        if (run.IsCompleted)
        {
            return;
        }

        if (Signal(Libc.SIGTERM))
        {
            if (await EndsWithinAsync(grace))
            {
                return;
            }

            Signal(Libc.SIGKILL);
        }

        if (await EndsWithinAsync(grace))
        {
            return;
        }

        // Nobody else holds the pipes: the run is only draining output to a slow client, which
        // write_timeout bounds. Otherwise stop the holders too.
        var found = holders.Find();
        if (found.Count == 0)
        {
            return;
        }

        LogStoppingHolders(logger, pgid, string.Join(", ", found));
        foreach (var pid in found)
        {
            Libc.Kill(pid, Libc.SIGTERM);
        }

        if (await EndsWithinAsync(grace))
        {
            return;
        }

        foreach (var pid in found)
        {
            Libc.Kill(pid, Libc.SIGKILL);
        }

        if (!await EndsWithinAsync(grace))
        {
            try
            {
                await forceful.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
                // The run finished while we waited.
            }
        }
    }

    private async Task<bool> EndsWithinAsync(TimeSpan wait)
    {
        try
        {
            await run.WaitAsync(wait);
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (Exception) when (run.IsCompleted)
        {
            // How the run ended is the runner's business.
        }

        return true;
    }

    private bool Signal(int signal) => isGroupLeader ? Libc.SignalGroup(pgid, signal) : Libc.Kill(pgid, signal) == 0;

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning,
        Message = "Process group {Pgid} is stopped but processes {Pids} that left it (setsid) still hold its stdout or stderr open; stopping them too")]
    private static partial void LogStoppingHolders(ILogger logger, int pgid, string pids);
}
