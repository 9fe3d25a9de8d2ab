using System.Text;

namespace Fwatchdog.Forwarding;

/// <summary>
/// One GET on a fresh connection, for health and readiness probes: the status of the answer,
/// whose head is parsed by the forwarder's strict parser and whose body is not read. The
/// watchdog uses this instead of HttpClient, which would bring TLS, HTTP/2 and HTTP/3 into the
/// watchdog-only binary and cost every function container start-up time and memory.
/// </summary>
internal static class Http1Probe
{
    /// <param name="authority">The Host header: host and port as in a URL (IPv6 in brackets).</param>
    public static async Task<int> GetStatusAsync(string host, int port, string authority, string pathAndQuery, CancellationToken cancellationToken)
    {
        using var connection = await Http1Connection.ConnectAsync(host, port, cancellationToken);
        var request = Encoding.ASCII.GetBytes($"GET {pathAndQuery} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
        await connection.Stream.WriteAsync(request, cancellationToken);
        var head = await connection.ReadHeadAsync(cancellationToken) ?? throw new IOException("the connection closed without an answer");
        return head.Status;
    }
}
