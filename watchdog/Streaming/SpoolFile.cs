using Microsoft.Win32.SafeHandles;

namespace Fwatchdog.Streaming;

/// <summary>
/// The spool's overflow: a file that is unlinked as soon as it is open, so it is gone when the
/// call ends whatever way it ends (SIGKILL included), and read back oldest bytes first. Once the
/// reader catches up, it is cut back to nothing so its disk space is freed at once.
/// </summary>
internal sealed class SpoolFile : IDisposable
{
    private static int s_count;
    private readonly FileStream _stream;
    private readonly SafeFileHandle _handle;
    private readonly string _folder;
    private long _read;
    private long _written;

    private SpoolFile(FileStream stream, string folder)
    {
        _stream = stream; // only its handle is used, with explicit offsets
        _handle = stream.SafeFileHandle;
        _folder = folder;
    }

    /// <summary>Bytes waiting to be read back.</summary>
    public long Length => _written - _read;

    /// <summary>The file's size now: its disk use, the part already read back included.</summary>
    public long Size => _written;

    /// <summary>The most the file held at once: its disk use.</summary>
    public long PeakBytes { get; private set; }

    public static SpoolFile Create(string folder)
    {
        for (var attempt = 0; ; attempt++)
        {
            var path = Path.Combine(folder, $"fwatchdog-spool-{Environment.ProcessId}-{Interlocked.Increment(ref s_count)}");
            try
            {
                // 0600: no other user may open it in the moment before it is unlinked.
                var stream = new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.ReadWrite,
                    Share = FileShare.None,
                    BufferSize = 0,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
                File.Delete(path);
                return new SpoolFile(stream, folder);
            }
            catch (IOException) when (attempt < 100 && File.Exists(path))
            {
                // A stale file of an earlier process with the same pid: take the next name.
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SpoolFullException($"cannot create the spool file in {folder}: {e.Message}", e);
            }
        }
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        try
        {
            RandomAccess.Write(_handle, data, _written);
        }
        catch (IOException e)
        {
            throw new SpoolFullException($"cannot write the spool file in {_folder}: {e.Message}", e);
        }

        _written += data.Length;
        PeakBytes = Math.Max(PeakBytes, _written);
    }

    /// <summary>Reads the oldest waiting bytes into <paramref name="buffer"/>; returns how many.</summary>
    public int Take(Span<byte> buffer)
    {
        var read = RandomAccess.Read(_handle, buffer[..(int)Math.Min(buffer.Length, Length)], _read);
        if (read <= 0)
        {
            throw new IOException($"the spool file in {_folder} ended {Length} bytes early");
        }

        _read += read;
        if (_read == _written)
        {
            _read = _written = 0;
            RandomAccess.SetLength(_handle, 0);
        }

        return read;
    }

    public void Dispose() => _stream.Dispose();
}
