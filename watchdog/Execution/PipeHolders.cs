using System.Globalization;

namespace Fwatchdog.Execution;

/// <summary>
/// Finds the processes that still hold a run's stdin, stdout or stderr pipe open, by the pipes' ids in
/// /proc (<c>pipe:[inode]</c>). Used only on the slow path, when a run's pipes stay open after
/// its process group is gone: a daemon that left the group with setsid.
/// </summary>
internal sealed class PipeHolders(IReadOnlyList<string> pipes)
{
    public static PipeHolders None { get; } = new([]);

    /// <summary>
    /// The pipes behind our own file descriptors: one fstat each, on every call, so it costs a
    /// few syscalls instead of a readlink through /proc per descriptor.
    /// </summary>
    public static PipeHolders OfOwn(params int[] fds) =>
        new(fds.Select(Native.Libc.Inode).Where(inode => inode >= 0).Select(inode => $"pipe:[{inode.ToString(CultureInfo.InvariantCulture)}]").ToList());

    /// <summary>The pipes behind <paramref name="fds"/> of process <paramref name="pid"/> (best effort: empty when it is gone).</summary>
    public static PipeHolders Of(int pid, params int[] fds)
    {
        var pipes = new List<string>(fds.Length);
        foreach (var fd in fds)
        {
            if (Link($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/fd/{fd.ToString(CultureInfo.InvariantCulture)}") is { } link
                && link.StartsWith("pipe:", StringComparison.Ordinal))
            {
                pipes.Add(link);
            }
        }

        return new PipeHolders(pipes);
    }

    /// <summary>Other processes holding one of the pipes (ours are left out: we hold the other ends).</summary>
    public IReadOnlyList<int> Find()
    {
        var found = new List<int>();
        if (pipes.Count == 0)
        {
            return found;
        }

        var self = Environment.ProcessId;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == self)
            {
                continue;
            }

            try
            {
                if (Directory.EnumerateFileSystemEntries(Path.Combine(dir, "fd")).Any(fd => Link(fd) is { } link && pipes.Contains(link)))
                {
                    found.Add(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or not ours to look at.
            }
        }

        return found;
    }

    private static string? Link(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
