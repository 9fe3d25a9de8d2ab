namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// Ports for servers that must be told their port before they bind it: a metrics port, a function
/// server behind mode=http, a nats-server that comes back on the same port after an outage. Every
/// other server listens on port 0 and the spec reads the port back. These come from below the
/// kernel's ephemeral range (ip_local_port_range), where port-0 listeners and outgoing connections
/// are never placed, so nothing can take one between the choice and the bind; within the test host
/// each is handed out once, and one something already holds is skipped.
/// </summary>
internal static class Ports
{
    private const int Lowest = 10_000;
    private static readonly int Span = EphemeralStart() - Lowest;
    private static int _cursor = Random.Shared.Next(Span);

    /// <summary>A loopback port nothing holds, outside the ephemeral range, not handed out before by this test host.</summary>
    public static int Unshared()
    {
        for (var tries = 0; tries < Span; tries++)
        {
            var port = Lowest + (int)((uint)Interlocked.Increment(ref _cursor) % (uint)Span);
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
                // Held by something else: the next one.
            }
        }

        throw new InvalidOperationException($"no free port between {Lowest} and {Lowest + Span}");
    }

    /// <summary>The first port of /proc/sys/net/ipv4/ip_local_port_range ("32768\t60999").</summary>
    private static int EphemeralStart() =>
        int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
}
