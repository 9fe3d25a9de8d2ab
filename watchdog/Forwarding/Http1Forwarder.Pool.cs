namespace Fwatchdog.Forwarding;

/// <summary>
/// Idle connections per upstream address. Each is watched while idle (<see cref="Http1Connection.WatchIdleAsync"/>):
/// bytes nobody asked for, or the upstream's close, end it and take it out of the pool at once.
/// </summary>
internal sealed partial class Http1Forwarder
{
    private Http1Connection? Rent((string, int) key)
    {
        if (!_idle.TryGetValue(key, out var idle))
        {
            return null;
        }

        var now = _time.GetTimestamp();
        while (idle.TryTake() is { } connection)
        {
            // The idle watch has closed what it saw misbehave; a take (which stops the watch from
            // acting) and a poll still guard every reuse, however recently the connection was used:
            // bytes can arrive in the instant before the take, before the watch has run.
            if (connection.TryTake() && _time.GetElapsedTime(connection.IdleSince, now) < IdleLimit && connection.IsIdleAndClean())
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
        var lease = connection.Release();
        var idle = _idle.GetOrAdd(key, _ => new IdleConnections());

        // The watch's read is pending before any call can take the connection; when bytes were
        // there already, it has closed the connection and it never enters the pool.
        if (!WatchAsync(idle, connection, lease).IsCompleted)
        {
            idle.Add(connection);
        }
    }

    private static async Task WatchAsync(IdleConnections idle, Http1Connection connection, long lease)
    {
        if (await connection.WatchIdleAsync(lease))
        {
            idle.Remove(connection);
        }
    }

    public void Dispose()
    {
        foreach (var idle in _idle.Values)
        {
            while (idle.TryTake() is { } connection)
            {
                connection.Dispose();
            }
        }
    }

    /// <summary>The idle connections to one address, the most recently used taken first.</summary>
    private sealed class IdleConnections
    {
        private readonly List<Http1Connection> _connections = [];

        public void Add(Http1Connection connection)
        {
            lock (_connections)
            {
                _connections.Add(connection);
            }
        }

        public Http1Connection? TryTake()
        {
            lock (_connections)
            {
                if (_connections.Count == 0)
                {
                    return null;
                }

                var last = _connections[^1];
                _connections.RemoveAt(_connections.Count - 1);
                return last;
            }
        }

        public void Remove(Http1Connection connection)
        {
            lock (_connections)
            {
                _connections.Remove(connection);
            }
        }
    }
}
