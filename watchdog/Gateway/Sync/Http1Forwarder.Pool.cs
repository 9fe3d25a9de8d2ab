namespace Fwatchdog.Gateway.Sync;

/// <summary>Idle connections per function address.</summary>
internal sealed partial class Http1Forwarder
{
    private Http1Connection? Rent((string, int) key)
    {
        if (!_idle.TryGetValue(key, out var bag))
        {
            return null;
        }

        var now = _time.GetTimestamp();
        while (bag.TryTake(out var connection))
        {
            // Only a connection idle for a while can have been closed by the function's keep-alive
            // timeout; checking that costs a syscall, so recently used ones skip it.
            var idle = _time.GetElapsedTime(connection.IdleSince, now);
            if (idle < IdleLimit && (idle < TimeSpan.FromSeconds(1) || connection.LooksAlive()))
            {
                connection.Reused = true;
                return connection;
            }

            connection.Dispose();
        }

        return null;
    }

    private void Return((string, int) key, Http1Connection connection)
    {
        connection.IdleSince = _time.GetTimestamp();
        _idle.GetOrAdd(key, _ => []).Add(connection);
    }

    public void Dispose()
    {
        foreach (var bag in _idle.Values)
        {
            while (bag.TryTake(out var connection))
            {
                connection.Dispose();
            }
        }
    }
}
