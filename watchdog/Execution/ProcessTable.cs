using System.Collections.Concurrent;
using Fwatchdog.Native;

namespace Fwatchdog.Execution;

/// <summary>The process groups of the runs in flight, so shutdown and the PID 1 reaper know them.</summary>
internal sealed class ProcessTable
{
    private readonly ConcurrentDictionary<int, byte> _groups = new();

    public int Count => _groups.Count;

    public void Add(int pgid) => _groups[pgid] = 0;

    public void Remove(int pgid) => _groups.TryRemove(pgid, out _);

    public bool Contains(int pid) => _groups.ContainsKey(pid);

    public void KillAll()
    {
        foreach (var pgid in _groups.Keys)
        {
            Libc.SignalGroup(pgid, Libc.SIGKILL);
            Libc.Kill(pgid, Libc.SIGKILL);
        }
    }
}
