using Fwatchdog.Server.ForkMode;
using Fwatchdog.Tracing;

namespace Fwatchdog.Tests.Server;

public sealed class ChildEnvironmentTests : FastTier
{
    [Theory]
    [InlineData("X-Forwarded-By", "Http_X_Forwarded_By")]
    [InlineData("x-forwarded-by", "Http_X_Forwarded_By")]
    [InlineData("content-type", "Http_Content_Type")]
    [InlineData("custom_under", "Http_Custom_under")]
    [InlineData("X-Weird.Name", "Http_X_Weird_name")]
    [InlineData("X-Dollar$Sign", "Http_X_Dollar_sign")]
    [InlineData("X-1st", "Http_X_1st")]
    public void Header_names_become_sanitised_variable_names(string header, string variable) =>
        ChildEnvironment.VariableName(header).Should().Be(variable);

    [Theory]
    [InlineData("Proxy")]
    [InlineData("proxy")]
    [InlineData("Method")]
    [InlineData("Query")]
    [InlineData("Path")]
    [InlineData("Host")]
    [InlineData("Content-Length")]
    [InlineData("ContentLength")]
    [InlineData("Transfer-Encoding")]
    [InlineData("X-Call-Id")]
    public void Headers_cannot_become_reserved_or_httpoxy_variables(string header) =>
        ChildEnvironment.VariableName(header).Should().BeNull();

    [Fact]
    public void Request_details_and_every_value_of_a_repeated_header_reach_the_child()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "PUT";
        context.Request.Path = "/a/b";
        context.Request.QueryString = new QueryString("?x=1&y=%20");
        context.Request.Host = new HostString("fn.local", 8080);
        context.Request.ContentLength = 12;
        context.Request.Headers.Append("X-Tag", "one");
        context.Request.Headers.Append("X-Tag", "two");
        context.Request.Headers["Method"] = "DELETE";
        context.Request.Headers["Proxy"] = "http://evil";

        var env = ChildEnvironment.Build(context.Request, "call-1", cgiHeaders: true, deadline: null, TraceContext.NewRoot());

        env.Should().Contain(new Dictionary<string, string>
        {
            ["Http_Method"] = "PUT",
            ["Http_Path"] = "/a/b",
            ["Http_Query"] = "x=1&y=%20",
            ["Http_Host"] = "fn.local:8080",
            ["Http_Content_Length"] = "12",
            ["Http_ContentLength"] = "12",
            ["Http_X_Tag"] = "one, two",
            ["Http_X_Call_Id"] = "call-1",
        });
        env.Should().NotContainKey("Http_Proxy");
        env.Should().NotContainKey(ChildEnvironment.DeadlineVariable);
    }

    [Fact]
    public void Chunked_requests_report_length_minus_one_and_their_transfer_encoding()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Headers.TransferEncoding = "chunked";

        var env = ChildEnvironment.Build(context.Request, "c", cgiHeaders: true, deadline: null, TraceContext.NewRoot());

        env["Http_Content_Length"].Should().Be("-1");
        env["Http_Transfer_Encoding"].Should().Be("chunked");
        env.Should().NotContainKey("Http_Query");
    }

    [Fact]
    public void Deadline_is_passed_even_without_cgi_headers()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["X-Tag"] = "one";
        var deadline = new DateTimeOffset(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);

        var trace = TraceContext.NewRoot();

        var env = ChildEnvironment.Build(context.Request, "c", cgiHeaders: false, deadline: deadline, trace);

        env.Should().BeEquivalentTo(new Dictionary<string, string>
        {
            [ChildEnvironment.TraceParentVariable] = trace.TraceParent,
            [ChildEnvironment.DeadlineVariable] = "2026-01-02T03:04:05.678Z",
            [ChildEnvironment.DeadlineUnixMsVariable] = deadline.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_process_joins_the_trace_through_TRACEPARENT_and_never_sees_the_callers_unchecked_text(bool cgiHeaders)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["traceparent"] = "00-not-a-trace";
        context.Request.Headers["tracestate"] = "Bad Key=1";
        context.Request.Headers["baggage"] = "bad value=1";
        var span = new TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", true, "congo=t61rcWkgMzE", "userId=alice");

        var env = ChildEnvironment.Build(context.Request, "c", cgiHeaders, deadline: null, span);

        var expected = new Dictionary<string, string>
        {
            ["TRACEPARENT"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ["TRACESTATE"] = "congo=t61rcWkgMzE",
            ["BAGGAGE"] = "userId=alice",
        };
        if (cgiHeaders)
        {
            // Templates that read the header variables get the same context.
            expected["Http_Traceparent"] = expected["TRACEPARENT"];
            expected["Http_Tracestate"] = expected["TRACESTATE"];
            expected["Http_Baggage"] = expected["BAGGAGE"];
        }

        env.Where(e => e.Key.Contains("trace", StringComparison.OrdinalIgnoreCase) || e.Key.Contains("baggage", StringComparison.OrdinalIgnoreCase))
            .Should().BeEquivalentTo(expected);
    }
}
