namespace Fwatchdog.Server;

/// <summary>
/// <c>$TMPDIR</c> (default <c>/tmp</c>) holds the lock file, the response spool and buffer_http's
/// bodies. An image built FROM scratch has none: at start the watchdog makes it as a system's own
/// is (mode 1777), and when it cannot (a non-root user in scratch) it says what to do.
/// </summary>
internal static class TempFolder
{
    private const UnixFileMode SystemMode = UnixFileMode.StickyBit | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Makes the temp folder when it is missing; the problem in words when that fails, else null.</summary>
    public static string? Ensure()
    {
        var folder = Path.TrimEndingDirectorySeparator(Path.GetTempPath());
        if (Directory.Exists(folder))
        {
            return null;
        }

        try
        {
            Directory.CreateDirectory(folder);
            File.SetUnixFileMode(folder, SystemMode); // past the umask
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"the temp folder {folder} (TMPDIR) does not exist and cannot be made ({Hosting.FileProblem.Describe(e, folder, folder: true)}); "
                + "give the container a writable /tmp (docker run --tmpfs /tmp, an emptyDir volume in Kubernetes) or set TMPDIR. "
                + "Until then the lock file cannot be written, buffer_http bodies over 30 KiB fail, and output for callers that send before they read waits for them";
        }
    }
}
