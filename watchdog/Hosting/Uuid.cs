using Fwatchdog.Native;

namespace Fwatchdog.Hosting;

/// <summary>
/// Random (version 4) UUIDs for call ids, as <see cref="Guid.NewGuid"/> makes them, from the
/// kernel's CSPRNG (getrandom), but read 32 at a time: Guid.NewGuid costs a read of /dev/urandom
/// (a system call) per id, which was 1.7% of a mode=http call's CPU. Not
/// RandomNumberGenerator: on Linux it loads OpenSSL, which the function images do not have (the
/// watchdog crashed on its first call there).
/// </summary>
internal static class Uuid
{
    private const int Batch = 32 * 16;

    [ThreadStatic]
    private static byte[]? t_random;

    [ThreadStatic]
    private static int t_next;

    public static string NewV4()
    {
        var random = t_random ??= new byte[Batch];
        if (t_next == 0)
        {
            Libc.GetRandom(random);
        }

        Span<byte> bytes = stackalloc byte[16];
        random.AsSpan(t_next, 16).CopyTo(bytes);
        random.AsSpan(t_next, 16).Clear();
        t_next = (t_next + 16) % Batch;

        // Version 4 in the high nibble of the third group (byte 7 of Guid's little-endian layout), variant 10 in byte 8.
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes).ToString();
    }
}
