using System.Net;
using System.Net.Sockets;
using Fwatchdog.Forwarding;

namespace Fwatchdog.Gateway.Reach;

/// <summary>
/// Connects to a host a caller named, checking the addresses it resolves to right then: every
/// one of them must be allowed (<see cref="RefusedAddresses"/>), and the socket connects to those
/// very addresses. Checking and connecting in one step is what keeps DNS rebinding out: a name
/// that resolved to a public address when the call was accepted and to 127.0.0.1 now is refused.
/// </summary>
internal static class CheckedConnect
{
    public static async ValueTask<Socket> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        var addresses = await ResolveAsync(host, cancellationToken);
        if (addresses.FirstOrDefault(RefusedAddresses.IsRefused) is { } refused)
        {
            throw new AddressRefusedException(host, refused);
        }

        return await TcpConnect.ConnectAsync(addresses, port, cancellationToken);
    }

    /// <summary>Every address of <paramref name="host"/> (an IP literal is its own); a name without any throws HostNotFound.</summary>
    public static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        var bare = host.Trim('[', ']');
        if (IPAddress.TryParse(bare, out var literal))
        {
            return [literal];
        }

        var addresses = await Dns.GetHostAddressesAsync(bare, cancellationToken);
        return addresses.Length > 0 ? addresses : throw new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>Whether <paramref name="host"/> resolves to a refused address now; false when it does not resolve.</summary>
    public static async Task<bool> IsRefusedAsync(string host, CancellationToken cancellationToken)
    {
        try
        {
            return (await ResolveAsync(host, cancellationToken)).Any(RefusedAddresses.IsRefused);
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
