using System.Buffers;
using Fwatchdog.Gateway.Queue;
using Fwatchdog.Hosting;

namespace Fwatchdog.Gateway.Async;

/// <summary>
/// Takes a body off the wire into a <see cref="StoredBody"/> in constant memory: up to 64 KiB
/// stays inline; beyond that it streams to a file under data_dir that is fsynced before use.
/// A failure on our side (disk full, read-only data_dir) is a <see cref="QueueUnavailableException"/>,
/// never an <see cref="IOException"/>, so it cannot be taken for the caller going away:
/// the caller gets 503 queue_unavailable, and no partial file is left.
/// </summary>
internal sealed class BodySpool(string folder)
{
    public const int InlineLimit = 64 * 1024;

    /// <summary>Returns the stored body, or null when it grew past <paramref name="limit"/> (nothing is kept then).</summary>
    public async Task<StoredBody?> SpoolAsync(Stream source, long limit, string name, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(InlineLimit + 1);
        try
        {
            var filled = 0;
            int read;
            while (filled <= InlineLimit && (read = await source.ReadAsync(buffer.AsMemory(filled, InlineLimit + 1 - filled), cancellationToken)) > 0)
            {
                filled += read;
            }

            if (filled > limit)
            {
                return null;
            }

            if (filled <= InlineLimit)
            {
                return new StoredBody(buffer.AsSpan(0, filled).ToArray(), null, filled);
            }

            var path = Path.Combine(folder, name);
            long total;
            try
            {
                total = await WriteFileAsync(path, source, buffer, filled, limit, cancellationToken);
            }
            catch
            {
                Delete(path);
                throw;
            }

            if (total > limit)
            {
                Delete(path);
                return null;
            }

            return new StoredBody(null, path, total);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes what is buffered and the rest of the stream; returns the total, or more than the limit when it stopped early.</summary>
    private async Task<long> WriteFileAsync(string path, Stream source, byte[] buffer, int filled, long limit, CancellationToken cancellationToken)
    {
        var total = (long)filled;
        var file = await OnDiskAsync(path, () =>
        {
            Directory.CreateDirectory(folder);
            return Task.FromResult(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous));
        });
        try
        {
            await OnDiskAsync(path, async () => await file.WriteAsync(buffer.AsMemory(0, filled), cancellationToken));
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, InlineLimit), cancellationToken)) > 0)
            {
                total += read;
                if (total > limit)
                {
                    return total;
                }

                await OnDiskAsync(path, async () => await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken));
            }

            await OnDiskAsync(path, async () =>
            {
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            });
            return total;
        }
        finally
        {
            await OnDiskAsync(path, async () => await file.DisposeAsync());
        }
    }

    /// <summary>Runs one step on data_dir; an I/O failure there is the store's fault, not the caller's.</summary>
    private static async Task<T> OnDiskAsync<T>(string path, Func<Task<T>> step)
    {
        try
        {
            return await step();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new QueueUnavailableException($"data_dir cannot store the body ({path}): {FileProblem.Describe(e, path)}", e);
        }
    }

    private static Task OnDiskAsync(string path, Func<Task> step) => OnDiskAsync(path, async () =>
    {
        await step();
        return true;
    });

    private static void Delete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing refers to the file; deleting is all that can be done, and it rarely fails.
        }
    }
}
