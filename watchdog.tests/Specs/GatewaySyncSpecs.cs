namespace Fwatchdog.Tests.Specs;

/// <summary>Sync calls on /function/{name}: what reaches the function, what comes back, and the gateway's own errors.</summary>
public sealed class GatewaySyncSpecs : FastTier
{
    [Fact(Timeout = 30_000)]
    public async Task Function_sees_only_the_raw_sub_path_and_query_with_encoded_characters_intact()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", upstream.Url)));

        foreach (var (sent, expected) in new[]
        {
            ("/function/echo", "/"),
            ("/function/echo/", "/"),
            ("/function/echo/a%2Fb/c?x=1&y=%2F", "/a%2Fb/c?x=1&y=%2F"),
            ("/function/echo/a%3Fb?q=1", "/a%3Fb?q=1"),
            ("/function/echo/a%23b?q=%23", "/a%23b?q=%23"),
            ("/function/echo/employee/300", "/employee/300"),
        })
        {
            using var response = await gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(gateway.Url + sent.TrimStart('/'), new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true })));
            response.StatusCode.Should().Be(HttpStatusCode.OK, sent);
            (await upstream.NextAsync()).RawTarget.Should().Be(expected, $"{sent} should reach the function unchanged");
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Any_method_is_forwarded_with_its_body_and_the_answer_streams_back_unchanged()
    {
        await using var upstream = await TestUpstream.StartAsync(async (context, request) =>
        {
            context.Response.StatusCode = 201;
            context.Response.Headers["X-From-Function"] = request.Method;
            context.Response.Headers.Append("Set-Cookie", "a=1");
            context.Response.Headers.Append("Set-Cookie", "b=2");
            context.Response.ContentType = "application/octet-stream";
            await context.Response.Body.WriteAsync(request.Body.Reverse().ToArray());
        });
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("fn", upstream.Url)));
        var body = new byte[300_000];
        Random.Shared.NextBytes(body);

        foreach (var method in new[] { "POST", "PUT", "PATCH", "DELETE" })
        {
            using var response = await gateway.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/function/fn") { Content = new ByteArrayContent(body) });
            response.StatusCode.Should().Be(HttpStatusCode.Created);
            response.Headers.GetValues("X-From-Function").Should().Equal(method);
            response.Headers.GetValues("Set-Cookie").Should().Equal("a=1", "b=2");
            (await response.Content.ReadAsByteArrayAsync()).Should().Equal(body.Reverse());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Call_id_is_made_when_absent_kept_when_given_and_forwarding_headers_are_set()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", upstream.Url)));

        using var fresh = await gateway.PostAsync("/function/echo", "x");
        var made = fresh.Headers.GetValues("X-Call-Id").Single();
        Guid.TryParse(made, out _).Should().BeTrue();
        var first = await upstream.NextAsync();
        first.Header("X-Call-Id").Should().Be(made);
        first.Header("X-Start-Time").Should().MatchRegex("^[0-9]{19}$");
        first.Header("X-Forwarded-For").Should().Be("127.0.0.1");
        first.Header("X-Forwarded-Host").Should().Be(gateway.Url.Authority);
        first.Header("X-Forwarded-Proto").Should().Be("http");

        using var given = await gateway.PostAsync("/function/echo", "x", ("X-Call-Id", "my-call-42"), ("X-Forwarded-For", "10.0.0.9"));
        given.Headers.GetValues("X-Call-Id").Should().Equal("my-call-42");
        var second = await upstream.NextAsync();
        second.Header("X-Call-Id").Should().Be("my-call-42");
        second.Header("X-Forwarded-For").Should().Be("10.0.0.9, 127.0.0.1");
    }

    [Fact(Timeout = 30_000)]
    public async Task Hop_by_hop_headers_and_those_named_in_Connection_are_not_forwarded()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", upstream.Url)));
        await using var raw = await RawHttpClient.ConnectAsync(gateway.Url);
        await raw.SendHeadAsync("POST", "/function/echo", 2, "Connection: X-Secret-Hop", "X-Secret-Hop: 1", "Keep-Alive: timeout=5",
            "Proxy-Authorization: Basic eA==", "TE: trailers", "X-Kept: yes");
        await raw.Stream.WriteAsync("hi"u8.ToArray());
        var (status, _) = await raw.ReadHeadAsync();

        status.Should().Be(200);
        var received = await upstream.NextAsync();
        received.Headers.Keys.Should().NotContain(["X-Secret-Hop", "Keep-Alive", "Proxy-Authorization", "TE"]);
        received.Header("X-Kept").Should().Be("yes");
    }

    [Fact(Timeout = 30_000)]
    public async Task Unknown_function_is_404_unreachable_is_502_and_a_slow_one_is_504_each_with_a_reason()
    {
        await using var slow = await TestUpstream.StartAsync(async (context, _) => await Task.Delay(5000, context.RequestAborted));
        using var closed = new ClosedPort();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(
            ("down", $$"""{ "upstream": "{{closed.Url}}" }"""),
            ("slow", $$"""{ "upstream": "{{slow.Url}}", "timeout": "300ms" }""")));

        foreach (var (path, status, reason) in new[]
        {
            ("/function/nope", HttpStatusCode.NotFound, "function_not_found"),
            ("/function/fig@let", HttpStatusCode.NotFound, "function_not_found"),
            ("/function/down", HttpStatusCode.BadGateway, "function_unreachable"),
            ("/function/slow", HttpStatusCode.GatewayTimeout, "upstream_timeout"),
        })
        {
            using var response = await gateway.PostAsync(path, "x");
            response.StatusCode.Should().Be(status, path);
            response.Headers.GetValues("X-Gateway-Reason").Should().Equal(reason);
            response.Headers.Contains("X-Call-Id").Should().BeTrue();
            (await response.Content.ReadAsStringAsync()).Should().NotBeEmpty();
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Upstream_redirects_are_returned_to_the_caller_not_followed()
    {
        await using var upstream = await TestUpstream.StartAsync((context, _) =>
        {
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = "http://127.0.0.1:1/elsewhere";
            return Task.CompletedTask;
        });
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("moved", upstream.Url)));

        using var response = await gateway.PostAsync("/function/moved", "x");

        response.StatusCode.Should().Be(HttpStatusCode.Found);
        response.Headers.Location.Should().Be(new Uri("http://127.0.0.1:1/elsewhere"));
        upstream.All.Should().HaveCount(1);
    }

    [Fact(Timeout = 30_000)]
    public async Task Upstream_template_fills_in_name_and_namespace_splitting_at_the_last_dot()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync("{ \"functions\": {} }", new Dictionary<string, string>
        {
            ["upstream_template"] = upstream.Url + "ns/{namespace}/fn/{name}",
            ["function_namespace"] = "default-ns",
        });

        using (await gateway.PostAsync("/function/figlet/x?y=1", "a"))
        {
            (await upstream.NextAsync()).RawTarget.Should().Be("/ns/default-ns/fn/figlet/x?y=1");
        }

        using (await gateway.PostAsync("/function/dev.figlet.openfaas-fn/x", "a"))
        {
            (await upstream.NextAsync()).RawTarget.Should().Be("/ns/openfaas-fn/fn/dev.figlet/x");
        }

        await using var unknownHost = await TestGateway.StartAsync("{ \"functions\": {} }", new Dictionary<string, string> { ["upstream_template"] = "http://{name}.{namespace}.invalid:8080" });
        using var missing = await unknownHost.PostAsync("/function/ghost", "a");
        missing.StatusCode.Should().Be(HttpStatusCode.NotFound);
        missing.Headers.GetValues("X-Gateway-Reason").Should().Equal("function_not_found");
    }

    [Fact(Timeout = 120_000)]
    public async Task Large_request_and_response_bodies_stream_through_the_gateway_in_constant_memory()
    {
        const long size = 512L << 20;
        await using var counter = await TestWatchdog.StartAsync("wc -c");
        await using var producer = await TestWatchdog.StartAsync($"head -c {size} /dev/zero");
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("count", counter.Url), ("produce", producer.Url)));
        using var heap = HeapPeak.Start();

        using var upload = await gateway.Client.PostAsync("/function/count", new StreamContent(new PatternStream(size)));
        (await upload.Content.ReadAsStringAsync()).Trim().Should().Be(size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var download = await gateway.Client.GetAsync("/function/produce", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await download.Content.ReadAsStreamAsync();
        var buffer = new byte[256 * 1024];
        long received = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            received += read;
        }

        var growth = await heap.StopAsync();
        received.Should().Be(size);
        growth.Should().BeLessThan(64L * 1024 * 1024, "memory must not grow with the body size");
    }

    [Fact(Timeout = 120_000)]
    public async Task A_function_that_answers_while_it_reads_streams_both_ways_at_once_through_the_gateway()
    {
        await using var watchdog = await TestWatchdog.StartAsync("cat");
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("cat", watchdog.Url)));
        const long size = 512L << 20;
        using var heap = HeapPeak.Start();

        // cat answers while it still reads: unless bytes flow both ways at once, both directions
        // stall as soon as the socket buffers are full.
        await using var client = await RawHttpClient.ConnectAsync(gateway.Url);
        await client.SendHeadAsync("POST", "/function/cat", size);
        var sending = new PatternStream(size).CopyToAsync(client.Stream, 256 * 1024);
        var (status, headers) = await client.ReadHeadAsync();
        status.Should().Be(200);
        using var received = new PatternStream.Verifier();
        await client.ReadBodyAsync(headers, received.WriteAsync);
        await sending;
        var growth = await heap.StopAsync();

        received.Length.Should().Be(size);
        growth.Should().BeLessThan(64L * 1024 * 1024, "memory must not grow with the body size");
    }

    [Fact(Timeout = 30_000)]
    public async Task Chunked_requests_and_responses_and_HEAD_pass_through_with_their_framing()
    {
        await using var upstream = await TestUpstream.StartAsync(async (context, request) =>
        {
            context.Response.Headers["X-Length"] = request.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (request.RawTarget == "/chunked")
            {
                await context.Response.Body.WriteAsync("part one,"u8.ToArray());
                await context.Response.Body.FlushAsync();
                await context.Response.Body.WriteAsync(" part two"u8.ToArray());
            }
            else
            {
                context.Response.ContentLength = 5;
                if (!HttpMethods.IsHead(request.Method))
                {
                    await context.Response.Body.WriteAsync("fixed"u8.ToArray());
                }
            }
        });
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("fn", upstream.Url)));

        using var chunkedRequest = new HttpRequestMessage(HttpMethod.Post, "/function/fn/chunked") { Content = new StreamContent(new PatternStream(100_000)) };
        using var chunked = await gateway.Client.SendAsync(chunkedRequest);
        chunked.Headers.GetValues("X-Length").Should().Equal("100000");
        (await chunked.Content.ReadAsStringAsync()).Should().Be("part one, part two");

        for (var i = 0; i < 3; i++)
        {
            using var head = await gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/function/fn/fixed"));
            head.StatusCode.Should().Be(HttpStatusCode.OK);
            head.Content.Headers.ContentLength.Should().Be(5);
            using var get = await gateway.Client.GetAsync("/function/fn/fixed");
            (await get.Content.ReadAsStringAsync()).Should().Be("fixed", "a pooled connection must be clean after a HEAD");
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task A_pooled_connection_the_function_closed_while_idle_is_not_used_again()
    {
        await using var upstream = ScriptedUpstream.Start(exchange => exchange.WriteAsync(ScriptedUpstream.OwnAnswer(exchange.Request)), idleClose: TimeSpan.FromMilliseconds(200));
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", upstream.Url)));

        (await MarkedCallAsync(gateway, "first")).Should().Be("own:first");
        (await Processes.EventuallyAsync(() => upstream.IsClosed(1), TimeSpan.FromSeconds(10))).Should().BeTrue("the function closes an idle connection after 200 ms");
        (await MarkedCallAsync(gateway, "second")).Should().Be("own:second");

        upstream.Requests.Select(r => (r.Connection, r.Header("X-Marker"))).Should().Equal((1, "first"), (2, "second"));
    }

    private static async Task<string> MarkedCallAsync(TestGateway gateway, string marker)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/function/echo");
        request.Headers.Add("X-Marker", marker);
        using var response = await gateway.Client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK, marker);
        return await response.Content.ReadAsStringAsync();
    }
}
