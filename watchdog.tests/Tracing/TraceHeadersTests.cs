using Fwatchdog.Tracing;
using Microsoft.Extensions.Primitives;

namespace Fwatchdog.Tests.Tracing;

/// <summary>A caller's trace headers by the W3C rules: malformed text is ignored or dropped, never passed on; lists are trimmed to their bounds.</summary>
public sealed class TraceHeadersTests : FastTier
{
    private const string Trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string Span = "00f067aa0ba902b7";

    [Theory]
    [InlineData("00-" + Trace + "-" + Span + "-01", true)]
    [InlineData("00-" + Trace + "-" + Span + "-00", false)]
    [InlineData("00-" + Trace + "-" + Span + "-09", true)]
    [InlineData("01-" + Trace + "-" + Span + "-01", true)]
    [InlineData("01-" + Trace + "-" + Span + "-01-what-comes-later", true)]
    public void A_well_formed_traceparent_is_continued(string traceParent, bool sampled)
    {
        var context = TraceHeaders.Read(traceParent, default, default);

        context.Should().NotBeNull();
        context!.Value.TraceId.Should().Be(Trace);
        context.Value.SpanId.Should().Be(Span);
        context.Value.Sampled.Should().Be(sampled);
        context.Value.TraceParent.Should().Be($"00-{Trace}-{Span}-{(sampled ? "01" : "00")}");
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("ff-" + Trace + "-" + Span + "-01")]
    [InlineData("00-" + Trace + "-" + Span + "-01-extra")]
    [InlineData("01-" + Trace + "-" + Span + "-01x")]
    [InlineData("00-4BF92F3577B34DA6A3CE929D0E0E4736-" + Span + "-01")]
    [InlineData("00-00000000000000000000000000000000-" + Span + "-01")]
    [InlineData("00-" + Trace + "-0000000000000000-01")]
    [InlineData("00-" + Trace + "-" + Span + "-0g")]
    [InlineData("0g-" + Trace + "-" + Span + "-01")]
    [InlineData("00_" + Trace + "_" + Span + "_01")]
    [InlineData("00-" + Trace + "-" + Span + "-1")]
    [InlineData(" 00-" + Trace + "-" + Span + "-01")]
    public void A_malformed_traceparent_is_ignored(string traceParent) =>
        TraceHeaders.Read(traceParent, "a=b", "k=v").Should().BeNull();

    [Fact]
    public void Two_traceparent_headers_are_ignored()
    {
        var one = $"00-{Trace}-{Span}-01";
        TraceHeaders.Read(new StringValues([one, one]), default, default).Should().BeNull();
    }

    [Theory]
    [InlineData("congo=t61rcWkgMzE", "congo=t61rcWkgMzE")]
    [InlineData("congo=t61rcWkgMzE, rojo=00f067aa0ba902b7", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")]
    [InlineData(" , congo=1 ,, ", "congo=1")]
    [InlineData("tenant@vendor=x", "tenant@vendor=x")]
    [InlineData("Upper=1,ok=2", "ok=2")]
    [InlineData("ok=2,bad key=1", "ok=2")]
    [InlineData("ok=2,novalue=", "ok=2")]
    [InlineData("ok=2,blank=around ", "ok=2,blank=around")]
    [InlineData("ok=2,tab=a\tb", "ok=2")]
    [InlineData("ok=2,space=a b", "ok=2,space=a b")]
    [InlineData("ok=a=b", null)]
    [InlineData("ok=1,ok=2", null)]
    [InlineData("ok=caf\u00e9", null)]
    [InlineData("", null)]
    public void Tracestate_keeps_only_well_formed_members(string header, string? kept) =>
        TraceHeaders.TrimState(header).Should().Be(kept);

    [Fact]
    public void Tracestate_from_two_headers_is_one_list()
    {
        TraceHeaders.TrimState(new StringValues(["a=1", "b=2"])).Should().Be("a=1,b=2");
    }

    [Fact]
    public void Tracestate_keeps_the_first_32_members()
    {
        var members = Enumerable.Range(0, 40).Select(i => $"k{i}=v").ToArray();

        var kept = TraceHeaders.TrimState(string.Join(",", members));

        kept.Should().Be(string.Join(",", members.Take(32)));
    }

    [Fact]
    public void Tracestate_over_512_characters_loses_long_members_first_then_members_from_the_end()
    {
        var longMember = "long=" + new string('x', 200);
        var small = Enumerable.Range(0, 30).Select(i => $"k{i:00}=" + new string('v', 10)).ToArray(); // 14 characters each
        var header = string.Join(",", small.Take(5).Append(longMember).Concat(small.Skip(5)));

        var kept = TraceHeaders.TrimState(header);

        kept.Should().NotBeNull();
        kept!.Length.Should().BeLessThanOrEqualTo(TraceHeaders.MaxStateLength);
        kept.Should().NotContain("long=", "a member over 128 characters goes before any other");
        kept.Should().Be(string.Join(",", small.Take(30)), "30 members of 14 characters and their commas fit in 512");

        var many = Enumerable.Range(0, 32).Select(i => $"k{i:00}=" + new string('v', 20)).ToArray(); // 24 characters each
        TraceHeaders.TrimState(string.Join(",", many)).Should().Be(string.Join(",", many.Take(20)), "20 of them and 19 commas are 499 characters, 21 would be 524");
    }

    [Theory]
    [InlineData("userId=alice", "userId=alice")]
    [InlineData("userId=alice, serverNode=DF%2028 , isProduction=false", "userId=alice,serverNode=DF%2028,isProduction=false")]
    [InlineData("key1=value1;property1;property2=x, key2 = value2", "key1=value1;property1;property2=x,key2 = value2")]
    [InlineData("ok=1,bad value=2", "ok=1")]
    [InlineData("ok=1,quote=\"x\"", "ok=1")]
    [InlineData("ok=1,=novalue", "ok=1")]
    [InlineData("ok=1,noequals", "ok=1")]
    [InlineData("ok=1;bad prop", null)]
    [InlineData("k=caf\u00e9", null)]
    public void Baggage_keeps_only_well_formed_members(string header, string? kept) =>
        TraceHeaders.TrimBaggage(header).Should().Be(kept);

    [Fact]
    public void Baggage_keeps_at_most_64_members_and_8192_bytes()
    {
        var members = Enumerable.Range(0, 100).Select(i => $"k{i}=v").ToArray();
        TraceHeaders.TrimBaggage(string.Join(",", members)).Should().Be(string.Join(",", members.Take(64)));

        var big = Enumerable.Range(0, 10).Select(i => $"k{i}=" + new string('v', 1000)).ToArray(); // about 1003 bytes each
        var kept = TraceHeaders.TrimBaggage(string.Join(",", big));
        kept.Should().Be(string.Join(",", big.Take(8)), "8 members and 7 commas fit in 8192 bytes, 9 do not");
    }

    [Fact]
    public void A_flood_is_not_read_at_all()
    {
        var flood = string.Join(",", Enumerable.Range(0, 20_000).Select(i => $"k{i}=v"));

        TraceHeaders.TrimBaggage(flood).Should().BeNull();
        TraceHeaders.TrimState(flood).Should().BeNull();
    }

    [Fact]
    public void Stored_headers_give_back_the_context_they_hold()
    {
        var stored = new List<KeyValuePair<string, string>>
        {
            new("Content-Type", "text/plain"),
            new("Traceparent", $"00-{Trace}-{Span}-01"),
            new("tracestate", "a=1"),
            new("baggage", "k=v"),
        };

        TraceHeaders.Read(stored).Should().Be(new TraceContext(Trace, Span, true, "a=1", "k=v"));
    }
}
