using System.Net;
using System.Net.Sockets;

namespace Fwatchdog.Forwarding;

/// <summary>
/// The gateway's and mode=http's outgoing TCP connections (to functions, to callback receivers):
/// Nagle off, so a request or answer goes out as it is written, and the socket disposed when the
/// connect fails.
/// </summary>
internal static class TcpConnect
{
    public static ValueTask<Socket> ConnectAsync(string host, int port, CancellationToken cancellationToken) =>
        ConnectAsync(socket => socket.ConnectAsync(host, port, cancellationToken));

    public static ValueTask<Socket> ConnectAsync(IPAddress[] addresses, int port, CancellationToken cancellationToken) =>
        ConnectAsync(socket => socket.ConnectAsync(addresses, port, cancellationToken));

    private static async ValueTask<Socket> ConnectAsync(Func<Socket, ValueTask> connect)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await connect(socket);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
