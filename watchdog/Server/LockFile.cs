namespace Fwatchdog.Server;

/// <summary>
/// The classic <c>$TMPDIR/.lock</c> file: present while the watchdog serves, removed at SIGTERM.
/// With <c>suppress_lock</c> no file is written and health does not depend on one (the classic
/// watchdog then answered 503 for ever).
/// </summary>
internal sealed class LockFile(bool suppressed)
{
    public static string DefaultPath => System.IO.Path.Combine(System.IO.Path.GetTempPath(), ".lock");

    public string Path { get; } = DefaultPath;

    public bool Suppressed => suppressed;

    public void Create()
    {
        if (!suppressed)
        {
            File.WriteAllBytes(Path, []);
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
