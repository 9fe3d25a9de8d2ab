using System.Globalization;
using Fwatchdog.Execution;
using Fwatchdog.Native;

namespace Fwatchdog.Server;

/// <summary>
/// As PID 1 (a container's init) every orphaned grandchild becomes our child, and nobody else
/// will wait() for it. .NET only reaps the processes it started, so this loop reaps the rest:
/// zombies whose parent is us, that are not a run in flight, and that were already zombies on
/// the previous pass (so a child .NET is about to reap is never taken from it).
/// </summary>
internal sealed class OrphanReaper(ProcessTable table) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    public int Reaped { get; private set; }

    public void Start() => _loop = LoopAsync(_stop.Token);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        var seen = new HashSet<int>();
        var me = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
            var zombies = new HashSet<int>();
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                var name = Path.GetFileName(dir);
                if (!int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || table.Contains(pid))
                {
                    continue;
                }

                string stat;
                try
                {
                    stat = await File.ReadAllTextAsync(Path.Combine(dir, "stat"), cancellationToken);
                }
                catch (IOException)
                {
                    continue;
                }

                // "pid (comm) S ppid ..." - comm may hold spaces, so parse after the last ')'.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields.Length > 1 && fields[0] == "Z" && fields[1] == me)
                {
                    zombies.Add(pid);
                }
            }

            foreach (var pid in zombies.Where(seen.Contains))
            {
                if (Libc.WaitPid(pid, out _, Libc.WNOHANG) == pid)
                {
                    Reaped++;
                }
            }

            seen = zombies;
        }
    }
}
