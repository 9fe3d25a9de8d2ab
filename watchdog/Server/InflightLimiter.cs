namespace Fwatchdog.Server;

/// <summary>
/// <c>max_inflight</c>: rejects at once past the limit (no queueing, like faas-middleware), and
/// the caller releases its slot in a finally, so a failed call can never leak one.
/// </summary>
internal sealed class InflightLimiter(int max)
{
    private int _current;
    private long _lastEntry = Environment.TickCount64;

    public int Max => max;

    public int Current => Volatile.Read(ref _current);

    public bool IsFull => max > 0 && Current >= max;

    /// <summary>How long since the last call came in (see <see cref="NoteArrival"/>).</summary>
    public TimeSpan SinceLastCall => TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _lastEntry));

    /// <summary>A call came in (any mode, any answer).</summary>
    public void NoteArrival() => Volatile.Write(ref _lastEntry, Environment.TickCount64);

    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _current) <= max || max == 0)
        {
            return true;
        }

        Interlocked.Decrement(ref _current);
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref _current);
}
