namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// A loopback port where nothing listens, held for as long as the spec runs: the socket is bound
/// but never listens, so connections are refused and no other process can take the port meanwhile.
/// </summary>
internal sealed class ClosedPort : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public ClosedPort()
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Port = ((IPEndPoint)(_socket.LocalEndPoint ?? throw new InvalidOperationException("a bound socket has an address"))).Port;
    }

    public int Port { get; }

    public string Text => Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public Uri Url => new($"http://127.0.0.1:{Text}");

    public void Dispose() => _socket.Dispose();
}
