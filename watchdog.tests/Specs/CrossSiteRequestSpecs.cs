namespace Fwatchdog.Tests.Specs;

/// <summary>
/// docs/security.md: an operator's browser carries the gateway's credentials to every request it
/// makes there, so the routes that change calls refuse what another site's page sent (by
/// Sec-Fetch-Site or Origin), and scripts, which send neither, are not affected.
/// </summary>
public sealed class CrossSiteRequestSpecs : FastTier
{
    /// <param name="laterCallsHang">A replayed call would then stay running, so a status read at any time after a refused replay shows whether it went through.</param>
    private static async Task<(TestUpstream Function, TestGateway Gateway)> StartAsync(bool basicAuth, bool laterCallsHang)
    {
        var calls = 0;
        var function = await TestUpstream.StartAsync(async (context, request) =>
        {
            if (Interlocked.Increment(ref calls) > 1 && laterCallsHang)
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }

            context.Response.StatusCode = 503;
            await context.Response.WriteAsync("down");
        });
        var settings = basicAuth
            ? new Dictionary<string, string> { ["basic_auth"] = "true", ["secret_mount_path"] = await ConsoleSpecs.SecretsAsync() }
            : null;
        var gateway = await TestGateway.StartAsync(TestGateway.Stack(("down", $$"""{ "upstream": "{{function.Url}}", "max_attempts": 1 }""")), settings);
        return (function, gateway);
    }

    private static async Task<HttpResponseMessage> SendAsync(TestGateway gateway, HttpMethod method, string path, bool asOperator, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, path);
        if (asOperator)
        {
            request.Headers.Authorization = ConsoleSpecs.Operator();
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await gateway.Client.SendAsync(request);
    }

    public static TheoryData<string, string, bool> ForeignRequests => new()
    {
        { "Sec-Fetch-Site", "cross-site", false },
        { "Sec-Fetch-Site", "same-site", false },
        { "Origin", "http://evil.example", false },
        { "Origin", "null", false },
        { "Sec-Fetch-Site", "cross-site", true },
        { "Origin", "http://evil.example", true },
    };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(ForeignRequests))]
    public async Task Replay_cancel_and_the_bulk_routes_sent_from_another_sites_page_are_403_and_change_nothing(string header, string value, bool basicAuth)
    {
        var (function, gateway) = await StartAsync(basicAuth, laterCallsHang: true);
        await using var _ = function;
        await using var __ = gateway;
        var dead = TestGateway.Remember(await gateway.PostAsync("/async-function/down", "x"));
        await gateway.WaitForStateAsync(dead, TimeSpan.FromSeconds(20), "dead");
        var handle = TestGateway.StatusOf(dead);

        foreach (var (method, path) in new[] { (HttpMethod.Post, "/async-calls/replay?function=down"), (HttpMethod.Post, "/async-calls/cancel"), (HttpMethod.Post, handle + "/retry"), (HttpMethod.Delete, handle) })
        {
            using var refused = await SendAsync(gateway, method, path, basicAuth, (header, value));
            var text = await refused.Content.ReadAsStringAsync();
            refused.StatusCode.Should().Be(HttpStatusCode.Forbidden, $"{method} {path}: {text}");
            refused.Headers.GetValues("X-Gateway-Reason").Single().Should().Be("cross_site_request");
            text.Should().Contain(value);
        }

        var status = await gateway.Client.GetFromJsonAsync<JsonElement>(TestGateway.StatusOf(dead));
        status.GetProperty("state").GetString().Should().Be("dead", "nothing was replayed (a replayed call would be queued or running now)");
        function.All.Should().ContainSingle();
    }

    [Theory(Timeout = 30_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_gateways_own_pages_and_scripts_that_send_neither_header_may_replay_and_cancel(bool basicAuth)
    {
        var (function, gateway) = await StartAsync(basicAuth, laterCallsHang: false);
        await using var _ = function;
        await using var __ = gateway;
        var dead = TestGateway.Remember(await gateway.PostAsync("/async-function/down", "x"));
        await gateway.WaitForStateAsync(dead, TimeSpan.FromSeconds(20), "dead");
        var own = gateway.Url.GetLeftPart(UriPartial.Authority);

        using (var script = await SendAsync(gateway, HttpMethod.Post, "/async-calls/replay?function=down", basicAuth))
        {
            script.StatusCode.Should().Be(HttpStatusCode.OK, await script.Content.ReadAsStringAsync());
        }

        await function.WaitForAsync(2, TimeSpan.FromSeconds(20));
        await gateway.WaitForStateAsync(dead, TimeSpan.FromSeconds(20), "dead");
        using (var console = await SendAsync(gateway, HttpMethod.Post, TestGateway.StatusOf(dead) + "/retry", basicAuth, ("Origin", own), ("Sec-Fetch-Site", "same-origin")))
        {
            console.StatusCode.Should().Be(HttpStatusCode.Accepted, await console.Content.ReadAsStringAsync());
        }

        await function.WaitForAsync(3, TimeSpan.FromSeconds(20));
        await gateway.WaitForStateAsync(dead, TimeSpan.FromSeconds(20), "dead");
        using (var typed = await SendAsync(gateway, HttpMethod.Post, "/async-calls/replay?function=down", basicAuth, ("Sec-Fetch-Site", "none")))
        {
            typed.StatusCode.Should().Be(HttpStatusCode.OK, "a request the user made themselves (typed, bookmarked) is not another site's");
        }

        await function.WaitForAsync(4, TimeSpan.FromSeconds(20));
    }
}
