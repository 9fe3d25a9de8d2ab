namespace Fwatchdog.Tests.Specs;

/// <summary>
/// What a caller cannot reach or forge through the gateway:
/// paths above a function's base path, IP addresses through upstream_template, a mapped IPv6
/// X-Forwarded-For, call ids the status API cannot address.
/// </summary>
public sealed class GatewayBoundarySpecs : FastTier
{
    private static readonly UriCreationOptions Raw = new() { DangerousDisablePathAndQueryCanonicalization = true };

    [Fact(Timeout = 30_000)]
    public async Task Dot_segments_are_resolved_inside_the_function_and_climbing_above_its_base_path_is_400()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("upbase", new Uri(upstream.Url, "/fn/a"))));

        foreach (var (sent, expected) in new[]
        {
            ("/function/upbase/x/../y", "/fn/a/y"),
            ("/function/upbase/./x/./y/", "/fn/a/x/y/"),
            ("/function/upbase/x/%2e%2E/y?q=..", "/fn/a/y?q=.."),
            ("/function/upbase/x/..", "/fn/a/"),
            ("/function/upbase/..x/.y", "/fn/a/..x/.y"),
        })
        {
            using var response = await gateway.Client.GetAsync(new Uri(gateway.Url + sent.TrimStart('/'), in Raw));
            response.StatusCode.Should().Be(HttpStatusCode.OK, sent);
            (await upstream.NextAsync()).RawTarget.Should().Be(expected, sent);
        }

        foreach (var sent in new[] { "/function/upbase/../../function/x", "/function/upbase/%2e%2e/x", "/function/upbase/x/../../y", "/function/upbase/.." })
        {
            using var response = await gateway.Client.GetAsync(new Uri(gateway.Url + sent.TrimStart('/'), in Raw));
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest, sent);
            response.Headers.GetValues("X-Gateway-Reason").Single().Should().Be("bad_path");
            using var queued = await gateway.Client.PostAsync(new Uri(gateway.Url + sent.Replace("/function/", "/async-function/", StringComparison.Ordinal).TrimStart('/'), in Raw), new StringContent("x"));
            queued.StatusCode.Should().Be(HttpStatusCode.BadRequest, "async too: " + sent);
        }

        upstream.All.Should().HaveCount(5, "nothing that climbs above the base path reaches the upstream");
    }

    [Fact(Timeout = 30_000)]
    public async Task Names_that_make_upstream_template_an_IP_address_are_not_functions_sync_or_async()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var port = upstream.Url.Port;
        await using var dotted = await TestGateway.StartAsync("{ \"functions\": {} }", new Dictionary<string, string> { ["upstream_template"] = $"http://{{name}}.{{namespace}}:{port}" });
        await using var plain = await TestGateway.StartAsync("{ \"functions\": {} }", new Dictionary<string, string> { ["upstream_template"] = $"http://{{name}}:{port}" });

        foreach (var (gateway, name) in new[] { (dotted, "127.0.0.1"), (dotted, "127.1"), (plain, "2130706433"), (plain, "0x7f000001"), (plain, "127.0.0.1") })
        {
            using var sync = await gateway.Client.GetAsync($"/function/{name}");
            sync.StatusCode.Should().Be(HttpStatusCode.NotFound, name);
            sync.Headers.GetValues("X-Gateway-Reason").Single().Should().Be("function_not_found");
            using var queued = await gateway.PostAsync($"/async-function/{name}", "x");
            queued.StatusCode.Should().Be(HttpStatusCode.NotFound, "async: " + name);
            queued.Headers.GetValues("X-Gateway-Reason").Single().Should().Be("function_not_found");
            queued.Headers.Contains("X-Call-Id").Should().BeTrue("the async 404 names its call id too");
        }

        upstream.All.Should().BeEmpty("no caller reaches an address by naming it");
    }

    [Fact(Timeout = 30_000)]
    public async Task X_Forwarded_For_names_an_IPv4_caller_without_the_IPv6_mapping_on_a_dual_stack_listener()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("fn", upstream.Url)), new Dictionary<string, string> { ["bind_address"] = "*" });

        using var response = await gateway.Client.GetAsync("/function/fn");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await upstream.NextAsync()).Header("X-Forwarded-For").Should().Be("127.0.0.1");
    }

    [Fact(Timeout = 30_000)]
    public async Task X_Forwarded_For_sent_on_several_lines_reaches_the_function_as_one_chain_without_empty_hops()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("fn", upstream.Url)));
        await using var raw = await RawHttpClient.ConnectAsync(gateway.Url);

        var (status, _, _) = await raw.ExchangeAsync("GET", "/function/fn", "X-Forwarded-For: 10.0.0.1", "X-Forwarded-For: ", "X-Forwarded-For: 10.0.0.2");

        status.Should().Be(200);
        (await upstream.NextAsync()).Header("X-Forwarded-For").Should().Be("10.0.0.1, 10.0.0.2, 127.0.0.1", "mode=http passes the same chain");
    }

    [Fact(Timeout = 30_000)]
    public async Task Call_ids_the_status_API_cannot_address_are_replaced_with_fresh_ones()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("fn", upstream.Url)));

        foreach (var given in new[] { ".", "..", "...", "a/b", "a b", "%2e%2e" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/function/fn");
            request.Headers.TryAddWithoutValidation("X-Call-Id", given);
            using var sync = await gateway.Client.SendAsync(request);
            Guid.TryParse(sync.Headers.GetValues("X-Call-Id").Single(), out _).Should().BeTrue($"\"{given}\" is replaced (sync)");

            using var queued = await gateway.PostAsync("/async-function/fn", "x", ("X-Call-Id", given));
            queued.StatusCode.Should().Be(HttpStatusCode.Accepted);
            var id = queued.Headers.GetValues("X-Call-Id").Single();
            Guid.TryParse(id, out _).Should().BeTrue($"\"{given}\" is replaced (async)");
            (await gateway.Client.GetAsync(TestGateway.StatusOf(id))).StatusCode.Should().Be(HttpStatusCode.OK, "the new id is in the status API");
        }
    }
}
