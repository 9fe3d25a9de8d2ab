using System.Runtime.InteropServices;

namespace Fwatchdog.Native;

/// <summary>The few libc calls .NET does not expose: group signals, access checks, realpath.</summary>
internal static partial class Libc
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int X_OK = 1;
    private const int EINTR = 4;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    /// <summary>
    /// The inode behind a file descriptor (st_ino, at offset 8 of struct stat on x86-64 and
    /// arm64, glibc and musl alike), or -1. For a pipe it is the number /proc shows as pipe:[N].
    /// </summary>
    public static unsafe long Inode(int fd)
    {
        var stat = stackalloc byte[256];
        return Fstat(fd, stat) == 0 ? *(long*)(stat + 8) : -1;
    }

    /// <summary>
    /// Fills <paramref name="buffer"/> from the kernel's CSPRNG (getrandom(2), glibc 2.25+ and musl
    /// 1.1.20+). Unlike RandomNumberGenerator, it needs no OpenSSL, which function images lack.
    /// </summary>
    public static unsafe void GetRandom(Span<byte> buffer)
    {
        fixed (byte* start = buffer)
        {
            var done = 0;
            while (done < buffer.Length)
            {
                var got = (int)GetRandom(start + done, (nuint)(buffer.Length - done), 0);
                if (got < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == EINTR)
                    {
                        continue;
                    }

                    throw new IOException($"getrandom failed (errno {errno})");
                }

                done += got;
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "getrandom", SetLastError = true)]
    private static unsafe partial nint GetRandom(byte* buffer, nuint length, uint flags);

    [LibraryImport("libc", EntryPoint = "fstat")]
    private static unsafe partial int Fstat(int fd, byte* stat);

    [LibraryImport("libc", EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Access(string path, int mode);

    /// <summary>
    /// The absolute path with every symlink, <c>.</c> and <c>..</c> resolved (realpath(3)), or null
    /// when it does not exist or cannot be resolved (a file named as a folder, <c>file/</c>, included).
    /// </summary>
    public static string? RealPath(string path)
    {
        var resolved = RealPath(path, 0);
        if (resolved == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            Free(resolved);
        }
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPath(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);

    /// <summary>Sends <paramref name="signal"/> to every process in the group led by <paramref name="pgid"/>.</summary>
    public static bool SignalGroup(int pgid, int signal) => pgid > 1 && Kill(-pgid, signal) == 0;
}
