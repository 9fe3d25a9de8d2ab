using System.Net;
using System.Net.Sockets;

namespace Fwatchdog.Gateway.Reach;

/// <summary>
/// Addresses a caller may not make the gateway connect to by naming a host (X-Callback-Url, a
/// name filled into upstream_template): the gateway's own host (loopback, unspecified), the
/// link (169.254.0.0/16 with cloud metadata at 169.254.169.254, fe80::/10), the cloud metadata
/// services outside it (fd00:ec2::254, 100.100.100.200), multicast, reserved and broadcast. Private ranges (10/8, 172.16/12, 192.168/16, fc00::/7) are allowed: functions
/// and receivers live there. An IPv4 address written as IPv6 (::ffff:a.b.c.d, ::a.b.c.d,
/// 64:ff9b::a.b.c.d) is judged as the IPv4 address.
/// </summary>
internal static class RefusedAddresses
{
    /// <summary>Cloud metadata services outside the link-local range: AWS's IPv6 one (in fc00::/7) and Alibaba Cloud's (in 100.64/10).</summary>
    private static readonly IPAddress[] Metadata = [IPAddress.Parse("fd00:ec2::254"), IPAddress.Parse("100.100.100.200")];

    public static bool IsRefused(IPAddress address)
    {
        if (Array.IndexOf(Metadata, address) >= 0)
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6 && EmbeddedIPv4(address) is { } inner)
        {
            address = inner;
            if (Array.IndexOf(Metadata, address) >= 0)
            {
                return true;
            }
        }

        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var length))
        {
            return true;
        }

        if (length == 4)
        {
            // 0/8 "this network" (0.0.0.0 reaches the host itself), 127/8 loopback, 169.254/16
            // link-local, 224/4 multicast, 240/4 reserved and 255.255.255.255 broadcast.
            return bytes[0] is 0 or 127 or >= 224 || (bytes[0] == 169 && bytes[1] == 254);
        }

        return address.Equals(IPAddress.IPv6Loopback) || address.Equals(IPAddress.IPv6Any)
            || address.IsIPv6LinkLocal || address.IsIPv6Multicast;
    }

    private static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        var compatible = bytes[..12].IndexOfAnyExcept((byte)0) < 0 && !address.Equals(IPAddress.IPv6Loopback) && !address.Equals(IPAddress.IPv6Any);
        var nat64 = bytes[..12].SequenceEqual((ReadOnlySpan<byte>)[0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0]);
        return compatible || nat64 ? new IPAddress(bytes[12..]) : null;
    }
}
