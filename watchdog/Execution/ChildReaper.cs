using System.Runtime.InteropServices;
using Fwatchdog.Native;

namespace Fwatchdog.Execution;

/// <summary>
/// One thread per process that waits for children to exit and completes the run that owns each.
/// It peeks with <c>waitid(WNOWAIT)</c> and reaps only its own children, so .NET's Process
/// children (if any) keep their exit status; as PID 1 it also reaps orphans re-parented to us.
/// </summary>
internal sealed class ChildReaper
{
    private const int WEXITED = 4;
    private const int WNOWAIT = 0x01000000;
    private static readonly Lazy<ChildReaper> Instance = new(() => new ChildReaper());

    private readonly Lock _gate = new();
    private readonly Dictionary<int, TaskCompletionSource<int>> _waiting = [];
    private readonly HashSet<int> _strangers = [];
    private readonly SemaphoreSlim _spawned = new(0);
    private readonly bool _isInit = Environment.ProcessId == 1;

    private ChildReaper()
    {
        new Thread(Loop) { IsBackground = true, Name = "fwatchdog-reaper" }.Start();
    }

    public static ChildReaper Shared => Instance.Value;

    /// <summary>Call right after spawning <paramref name="pid"/>: its exit code (128+N for signal N).</summary>
    public Task<int> WaitAsync(int pid)
    {
        var waiter = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _waiting[pid] = waiter;
        }

        _spawned.Release();
        return waiter.Task;
    }

    private unsafe void Loop()
    {
        var info = stackalloc byte[128];
        while (true)
        {
            new Span<byte>(info, 128).Clear();
            if (Waitid(0, 0, info, WEXITED | WNOWAIT) != 0)
            {
                if (Marshal.GetLastPInvokeError() != Spawn.EINTR)
                {
                    _spawned.Wait(TimeSpan.FromSeconds(1)); // ECHILD: no children until the next spawn
                }

                continue;
            }

            var pid = *(int*)(info + 16); // siginfo_t.si_pid
            bool ours;
            lock (_gate)
            {
                ours = _waiting.ContainsKey(pid) || (_isInit && !_strangers.Add(pid));
            }

            if (!ours)
            {
                // Not registered (yet): a run that is registering this very moment, a child of
                // .NET's Process class that the runtime will reap, or (as PID 1) an orphan that we
                // reap on the next pass. Give them a moment instead of spinning.
                Thread.Sleep(5);
                continue;
            }

            if (Spawn.WaitPid(pid, out var status, 0) != pid)
            {
                continue;
            }

            var code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
            lock (_gate)
            {
                _strangers.Remove(pid);
                if (_waiting.Remove(pid, out var waiter))
                {
                    waiter.TrySetResult(code);
                }
            }
        }
    }

    [DllImport("libc", EntryPoint = "waitid", SetLastError = true)]
    private static extern unsafe int Waitid(int idType, int id, byte* info, int options);
}
