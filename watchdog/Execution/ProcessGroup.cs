using Fwatchdog.Native;

namespace Fwatchdog.Execution;

/// <summary>
/// Stops one run's process group politely: SIGTERM to the group, <c>kill_grace</c> for it to
/// exit, then SIGKILL to the group. If pipes are still held open after that (a process that left
/// the group with its own setsid), CliWrap's forceful cancellation ends the wait.
/// </summary>
internal sealed class ProcessGroup(int pgid, bool isGroupLeader, TimeSpan grace, Task run, CancellationTokenSource forceful)
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
        if (!Signal(Libc.SIGTERM) || run.IsCompleted)
        {
            return;
        }

        if (await Task.WhenAny(run, Task.Delay(grace)) == run)
        {
            return;
        }

        Signal(Libc.SIGKILL);
        if (await Task.WhenAny(run, Task.Delay(grace)) != run)
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

    private bool Signal(int signal) => isGroupLeader ? Libc.SignalGroup(pgid, signal) : Libc.Kill(pgid, signal) == 0;
}
