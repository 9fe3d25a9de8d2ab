using Fwatchdog.Gateway.Reach;

namespace Fwatchdog.Tests.Gateway;

public sealed class RefusedAddressesTests : FastTier
{
    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.255.255.254", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("0.1.2.3", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("169.254.0.1", true)]
    [InlineData("224.0.0.1", true)]
    [InlineData("239.255.255.250", true)]
    [InlineData("240.0.0.1", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("::1", true)]
    [InlineData("::", true)]
    [InlineData("fe80::1", true)]
    [InlineData("febf::1", true)]
    [InlineData("ff02::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("::ffff:169.254.169.254", true)]
    [InlineData("::127.0.0.1", true)]
    [InlineData("64:ff9b::127.0.0.1", true)]
    [InlineData("64:ff9b::a9fe:a9fe", true)]
    [InlineData("fd00:ec2::254", true)]
    [InlineData("100.100.100.200", true)]
    [InlineData("::ffff:100.100.100.200", true)]
    [InlineData("100.100.100.201", false)]
    [InlineData("fd00:ec2::253", false)]
    [InlineData("10.0.0.5", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("192.168.1.10", false)]
    [InlineData("169.253.255.255", false)]
    [InlineData("128.0.0.1", false)]
    [InlineData("8.8.8.8", false)]
    [InlineData("223.255.255.255", false)]
    [InlineData("fd00::1", false)]
    [InlineData("fc00::1", false)]
    [InlineData("2001:db8::1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("64:ff9b::808:808", false)]
    public void Loopback_unspecified_link_local_multicast_and_broadcast_are_refused_and_private_ranges_are_not(string address, bool refused) =>
        RefusedAddresses.IsRefused(IPAddress.Parse(address)).Should().Be(refused, address);
}
