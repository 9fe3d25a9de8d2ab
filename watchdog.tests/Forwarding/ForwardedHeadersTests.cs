using Fwatchdog.Forwarding;

namespace Fwatchdog.Tests.Forwarding;

public sealed class ForwardedHeadersTests : FastTier
{
    [Theory]
    [InlineData("127.0.0.1", "X-Forwarded-For: 127.0.0.1")]
    [InlineData("::ffff:10.1.2.3", "X-Forwarded-For: 10.1.2.3")]
    [InlineData("::1", "X-Forwarded-For: ::1")]
    [InlineData("2001:db8::7", "X-Forwarded-For: 2001:db8::7")]
    public void The_callers_address_is_appended_and_an_IPv4_one_is_written_as_IPv4(string remote, string line) =>
        Lines(remote).Should().Contain(line);

    [Fact]
    public void The_chain_the_caller_sent_comes_first_without_its_empty_hops() =>
        Lines("127.0.0.1", ("X-Forwarded-For", ["10.0.0.1", "", "10.0.0.2, 10.0.0.3"]))
            .Should().Contain("X-Forwarded-For: 10.0.0.1, 10.0.0.2, 10.0.0.3, 127.0.0.1");

    [Fact]
    public void Without_an_address_or_a_chain_there_is_no_X_Forwarded_For() =>
        Lines(null).Should().NotContain(line => line.StartsWith("X-Forwarded-For", StringComparison.Ordinal));

    [Fact]
    public void Host_and_scheme_are_added_as_the_caller_sent_them() =>
        Lines("127.0.0.1").Should().Contain(["X-Forwarded-Host: shop.example.com:8443", "X-Forwarded-Proto: http"]);

    [Fact]
    public void Host_and_proto_the_caller_sent_are_not_added_again() =>
        Lines("127.0.0.1", ("X-Forwarded-Host", ["public.example.com"]), ("X-Forwarded-Proto", ["https"]))
            .Should().NotContain(line => line.StartsWith("X-Forwarded-Host", StringComparison.Ordinal) || line.StartsWith("X-Forwarded-Proto", StringComparison.Ordinal));

    private static string[] Lines(string? remote, params (string Name, string[] Values)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("shop.example.com:8443");
        context.Connection.RemoteIpAddress = remote is null ? null : IPAddress.Parse(remote);
        foreach (var (name, values) in headers)
        {
            context.Request.Headers[name] = values;
        }

        var text = ForwardedHeaders.AppendTo(new StringBuilder(), context).ToString();
        text.Should().EndWith("\r\n");
        return text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
    }
}
