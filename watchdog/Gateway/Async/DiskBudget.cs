namespace Fwatchdog.Gateway.Async;

/// <summary>
/// <c>async_max_disk_bytes</c>: what data_dir may hold. What is there is measured (the size of
/// every file under it) at most once a second; accepts between two measurements add what they
/// stored, and accepts under way hold what they may store, so a burst cannot pass the budget
/// before the next measurement sees it. Only accepts are refused: results and the queue's own
/// writes are never held back, or finished work would be lost.
/// </summary>
internal sealed class DiskBudget(string folder, long budget, TimeProvider time)
{
    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(1);
    private readonly Lock _gate = new();
    private long _measured;
    private DateTimeOffset _measuredAt = DateTimeOffset.MinValue;
    private long _storedSince;
    private long _reserved;
    private bool _measuring;

    public long Budget => budget;

    /// <summary>Holds <paramref name="bytes"/> for an accept; false (nothing held) when that would pass the budget.</summary>
    public bool TryReserve(long bytes, out long used)
    {
        used = 0;
        if (budget == 0)
        {
            return true;
        }

        // One accept measures (outside the lock, a large data_dir takes a while); the others use the last measurement.
        var now = time.GetUtcNow();
        bool measure;
        lock (_gate)
        {
            measure = now - _measuredAt >= Fresh && !_measuring;
            _measuring |= measure;
        }

        if (measure)
        {
            var size = _measured;
            try
            {
                size = Measure();
            }
            finally
            {
                lock (_gate)
                {
                    _measured = size;
                    _measuredAt = now;
                    _storedSince = 0;
                    _measuring = false;
                }
            }
        }

        lock (_gate)
        {
            used = _measured + _storedSince + _reserved;
            if (used + bytes > budget)
            {
                return false;
            }

            _reserved += bytes;
            return true;
        }
    }

    /// <summary>Gives back what <see cref="TryReserve"/> held; what was stored counts until the next measurement.</summary>
    public void Release(long bytes, bool stored)
    {
        if (budget == 0)
        {
            return;
        }

        lock (_gate)
        {
            _reserved -= bytes;
            if (stored)
            {
                _storedSince += bytes;
            }
        }
    }

    private long Measure()
    {
        try
        {
            var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
            return new DirectoryInfo(folder).EnumerateFiles("*", options).Sum(file => file.Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No data_dir yet (nothing stored), or it cannot be read: the queue's own errors say why.
            return 0;
        }
    }
}
