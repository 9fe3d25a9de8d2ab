using System.Diagnostics;

namespace Fwatchdog.Hosting;

/// <summary>
/// Keeps a child running: the mode=http function server and each of the gateway's local
/// functions. Every time a run ends it is started again after a back-off that begins at
/// <see cref="FirstDelay"/> and doubles up to <see cref="MaxDelay"/> while runs keep ending
/// early; a run that lasted <see cref="StableRun"/> had a fresh start and resets it.
/// </summary>
internal static class Supervisor
{
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan StableRun = TimeSpan.FromSeconds(30);

    /// <summary>The wait before the next start after <paramref name="failures"/> early ends in a row (1 or more).</summary>
    public static TimeSpan Backoff(int failures) =>
        TimeSpan.FromMilliseconds(Math.Min(MaxDelay.TotalMilliseconds, FirstDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 16))));

    /// <summary>
    /// Runs <paramref name="runOnce"/> again and again until <paramref name="stopping"/> is
    /// cancelled; after each run, tells <paramref name="restarting"/> how it ended and how long the
    /// wait is, then waits. A run cancelled by <paramref name="stopping"/> ends the loop quietly.
    /// </summary>
    public static async Task RunAsync<TEnd>(Func<CancellationToken, Task<TEnd>> runOnce, Action<TEnd, TimeSpan> restarting, CancellationToken stopping)
    {
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            var clock = Stopwatch.StartNew();
            TEnd end;
            try
            {
                end = await runOnce(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }

            if (stopping.IsCancellationRequested)
            {
                return;
            }

            failures = clock.Elapsed > StableRun ? 1 : failures + 1;
            var delay = Backoff(failures);
            restarting(end, delay);
            try
            {
                await Task.Delay(delay, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
