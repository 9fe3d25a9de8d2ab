using System.Net;
using System.Net.Sockets;

namespace Fwatchdog.Gateway.Reach;

/// <summary>
/// A connection not made because the host resolved to a <see cref="RefusedAddresses">refused
/// address</see>. A <see cref="SocketException"/>, so every connect path that sorts socket errors
/// sees it; its message is for the gateway's log only, never for the caller.
/// </summary>
internal sealed class AddressRefusedException(string host, IPAddress address) : SocketException((int)SocketError.AccessDenied)
{
    public override string Message => $"{host} resolves to {address}, an address the gateway does not connect to for callers";
}
