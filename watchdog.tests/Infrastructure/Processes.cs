namespace Fwatchdog.Tests.Infrastructure;

/// <summary>Looks at real processes through /proc, and waits for things with a bound.</summary>
internal static class Processes
{
    /// <summary>True while the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid) => Stat(pid) is { State: not 'Z' };

    /// <summary>The parent of <paramref name="pid"/>, or -1 when it is gone.</summary>
    public static int ParentOf(int pid) => Stat(pid)?.Parent ?? -1;

    /// <summary>Zombie children of <paramref name="parent"/>.</summary>
    public static IReadOnlyList<int> Zombies(int parent) =>
        All().Where(pid => Stat(pid) is { State: 'Z' } stat && stat.Parent == parent).ToList();

    /// <summary>The processes (zombies too) whose parent is <paramref name="parent"/>.</summary>
    public static IReadOnlyList<int> ChildrenOf(int parent) => All().Where(pid => ParentOf(pid) == parent).ToList();

    /// <summary>Every process id in /proc.</summary>
    public static IEnumerable<int> All() =>
        Directory.EnumerateDirectories("/proc")
            .Select(dir => int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0)
            .Where(pid => pid > 0);

    public static Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan within) =>
        EventuallyAsync(() => Task.FromResult(condition()), within);

    /// <summary>Polls until <paramref name="condition"/> holds; false after <paramref name="within"/>.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var until = DateTime.UtcNow + within;
        while (DateTime.UtcNow < until)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return await condition();
    }

    /// <summary>State and parent from /proc/PID/stat ("pid (comm) S ppid ..."; comm may hold spaces).</summary>
    private static (char State, int Parent)? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (fields[0][0], int.Parse(fields[1], CultureInfo.InvariantCulture));
        }
        catch (IOException)
        {
            return null;
        }
    }
}
