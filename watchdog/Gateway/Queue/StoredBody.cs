namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// A request or result body at rest: small ones inline (in the queue row), large ones in a file
/// under data_dir that was fsynced before the row pointing to it was committed.
/// </summary>
internal sealed record StoredBody(byte[]? Inline, string? FilePath, long Length)
{
    public static readonly StoredBody Empty = new([], null, 0);

    public Stream Open() => Inline is { } bytes
        ? new MemoryStream(bytes, writable: false)
        : new FileStream(FilePath ?? throw new InvalidOperationException("a stored body has neither bytes nor a file"), FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);

    public void DeleteFile()
    {
        if (FilePath is { } path)
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
            }
        }
    }
}
