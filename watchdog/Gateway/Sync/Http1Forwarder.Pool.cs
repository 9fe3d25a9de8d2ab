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
            // Checked on every reuse, however recently the connection was used: an upstream can
            // close it or send bytes nobody asked for at any moment (issue 9, findings 2 and 3).
            if (_time.GetElapsedTime(connection.IdleSince, now) < IdleLimit && connection.IsIdleAndClean())
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
