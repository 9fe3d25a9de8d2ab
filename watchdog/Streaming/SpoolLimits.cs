namespace Fwatchdog.Streaming;

/// <summary>How much of a response may wait for a caller that is still sending, and where.</summary>
/// <param name="MaxBytes"><c>max_spool_bytes</c>: the most that may wait (memory and file); 0 turns spooling off.</param>
/// <param name="Directory">Where the spool file goes: the temp folder (<c>TMPDIR</c>).</param>
internal sealed record SpoolLimits(long MaxBytes, string Directory)
{
    /// <summary>Kept in memory before the rest goes to a file; also what may wait once the caller's body has ended.</summary>
    public const int MemoryBytes = 1 << 20;

    /// <summary>The default of <c>max_spool_bytes</c>: a 1 GiB echo from a caller that sends before it reads fits.</summary>
    public const long DefaultMaxBytes = 2L << 30;

    /// <summary>
    /// The most of a request body nobody wants any more (the function answered, exited or stopped
    /// reading) that is read and thrown away, so a caller that sends before it reads gets the
    /// answer; past it, and past <c>read_timeout</c>, the connection is given up.
    /// </summary>
    public const long MaxDiscardBytes = 1L << 30;

    /// <summary>How long the rest of an unwanted body is read in a forwarded call once the upstream no longer takes it.</summary>
    public static readonly TimeSpan DiscardTime = TimeSpan.FromSeconds(30);

    public static SpoolLimits InTempFolder(long maxBytes) => new(maxBytes, Path.GetTempPath());
}
