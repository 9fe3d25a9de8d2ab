using System.Globalization;

namespace Fwatchdog.Tests.Infrastructure;

/// <summary>Looks at real processes through /proc, and waits for things with a bound.</summary>
internal static class Processes
{
    /// <summary>True while the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Zombie children of <paramref name="parent"/>.</summary>
    public static IReadOnlyList<int> Zombies(int parent)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] == "Z" && fields[1] == parent.ToString(CultureInfo.InvariantCulture))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
            }
        }

        return found;
    }

    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan within)
    {
        var until = DateTime.UtcNow + within;
        while (DateTime.UtcNow < until)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return condition();
    }
}
