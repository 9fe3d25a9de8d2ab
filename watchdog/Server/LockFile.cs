using Fwatchdog.Hosting;

namespace Fwatchdog.Server;

/// <summary>
/// The classic <c>$TMPDIR/.lock</c> file (or <c>lock_file</c>): present while the watchdog serves,
/// removed at SIGTERM. Watchdogs sharing a host each need their own, or SIGTERM to one turns the
/// others' health to 503. With <c>suppress_lock</c> no file is written and health does
/// not depend on one (the classic watchdog then answered 503 for ever).
/// </summary>
internal sealed class LockFile(bool suppressed, string path)
{
    public string Path { get; } = path;

    public bool Suppressed => suppressed;

    /// <summary>Writes the file; one that cannot be written stops the start with one line.</summary>
    public void Create()
    {
        if (suppressed)
        {
            return;
        }

        try
        {
            File.WriteAllBytes(Path, []);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"lock_file={Path}: cannot be written ({FileProblem.Describe(e, Path)}); "
                + "set lock_file (or TMPDIR) to a writable path, or suppress_lock=true", e);
        }
    }

    /// <summary>True while serving: the file exists, or lock files are suppressed.</summary>
    public bool IsHealthy => suppressed || File.Exists(Path);

    public void Delete()
    {
        if (!suppressed)
        {
            File.Delete(Path);
        }
    }
}
