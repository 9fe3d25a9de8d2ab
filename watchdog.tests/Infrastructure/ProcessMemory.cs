namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// The resident memory of another process, read from /proc: what a container's memory limit
/// sees, unlike the test host's own heap. <see cref="Start"/> resets the kernel's peak
/// (clear_refs 5); <see cref="PeakGrowth"/> is how far the peak rose above the start since.
/// </summary>
internal sealed class ProcessMemory
{
    private readonly int _pid;
    private readonly long _start;

    private ProcessMemory(int pid)
    {
        _pid = pid;
        File.WriteAllText($"/proc/{pid}/clear_refs", "5");
        _start = Read("VmRSS");
    }

    public static ProcessMemory Start(int pid) => new(pid);

    public long PeakGrowth => Read("VmHWM") - _start;

    private long Read(string field)
    {
        var line = File.ReadLines($"/proc/{_pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>Files the process holds open whose name starts with <paramref name="prefix"/> (deleted ones included).</summary>
    public static IReadOnlyList<string> OpenFiles(int pid, string prefix) =>
        Directory.EnumerateFiles($"/proc/{pid}/fd")
            .Select(fd =>
            {
                try
                {
                    return new FileInfo(fd).LinkTarget ?? "";
                }
                catch (IOException)
                {
                    return ""; // closed while we looked
                }
            })
            .Where(target => Path.GetFileName(target).StartsWith(prefix, StringComparison.Ordinal))
            .ToList();
}
