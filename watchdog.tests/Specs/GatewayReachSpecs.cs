namespace Fwatchdog.Tests.Specs;

/// <summary>
/// Where a caller can make the gateway connect: X-Callback-Url and names filled into
/// upstream_template are checked against the addresses they resolve to, when the connection is
/// made, so the gateway is no proxy into its own host (loopback, link-local, cloud metadata),
/// no port scanner through the status API and no DNS oracle.
/// </summary>
public sealed class GatewayReachSpecs : FastTier
{
    /// <summary>The gateway's defaults: TestGateway lets specs call back to 127.0.0.1, these do not.</summary>
    private static Dictionary<string, string> Defaults(params (string Name, string Value)[] settings)
    {
        var merged = new Dictionary<string, string> { ["callback_allowed_hosts"] = "" };
        foreach (var (name, value) in settings)
        {
            merged[name] = value;
        }

        return merged;
    }

    [Fact(Timeout = 60_000)]
    public async Task Callbacks_to_loopback_link_local_unspecified_multicast_or_broadcast_addresses_are_refused_at_accept_by_default()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var receiver = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)), Defaults());
        var port = receiver.Url.Port;

        foreach (var url in new[]
        {
            $"http://127.0.0.1:{port}/admin?x=1", $"http://localhost:{port}/", $"http://2130706433:{port}/", $"http://0x7f000001:{port}/",
            $"http://127.1:{port}/", $"http://[::1]:{port}/", $"http://[::ffff:127.0.0.1]:{port}/", $"http://0.0.0.0:{port}/", $"http://[::]:{port}/",
            "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://224.0.0.1/", "http://[ff02::1]/", "http://255.255.255.255/",
            $"{gateway.Url}async-function/echo",
        })
        {
            using var refused = await gateway.PostAsync("/async-function/echo", "x", ("X-Callback-Url", url), ("Content-Type", "application/json"));
            refused.StatusCode.Should().Be(HttpStatusCode.BadRequest, url);
            refused.Headers.GetValues("X-Gateway-Reason").Should().Equal(["callback_host_not_allowed"], url);
            (await refused.Content.ReadAsStringAsync()).Should().Contain("callback_allowed_hosts", "the reason names the setting that allows it: " + url);
        }

        await Task.Delay(300);
        function.All.Should().BeEmpty("nothing was queued");
        receiver.All.Should().BeEmpty("nothing reached the gateway's own host");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_host_listed_in_callback_allowed_hosts_gets_callbacks_on_loopback_and_other_hosts_still_do_not()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var receiver = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)), Defaults(("callback_allowed_hosts", "localhost,*.example.com")));

        using var accepted = await gateway.PostAsync("/async-function/echo", "hello", ("X-Callback-Url", $"http://localhost:{receiver.Url.Port}/done"));
        accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await receiver.NextAsync()).Text.Should().Be("hello");
        (await WaitForCallbackAsync(gateway, accepted, "delivered", "failed")).GetProperty("state").GetString().Should().Be("delivered");

        using var other = await gateway.PostAsync("/async-function/echo", "x", ("X-Callback-Url", $"http://127.0.0.1:{receiver.Url.Port}/done"));
        other.StatusCode.Should().Be(HttpStatusCode.BadRequest, "only the listed name is allowed, not every way to write its address");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_host_listed_with_a_port_gets_callbacks_on_that_port_only()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var receiver = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)), Defaults(("callback_allowed_hosts", $"127.0.0.1:{receiver.Url.Port}")));

        using var accepted = await gateway.PostAsync("/async-function/echo", "hello", ("X-Callback-Url", $"http://127.0.0.1:{receiver.Url.Port}/done"));
        accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await WaitForCallbackAsync(gateway, accepted, "delivered", "failed")).GetProperty("state").GetString().Should().Be("delivered");

        using var otherPort = await gateway.PostAsync("/async-function/echo", "x", ("X-Callback-Url", $"{gateway.Url}async-function/echo"));
        otherPort.StatusCode.Should().Be(HttpStatusCode.BadRequest, "the entry names one port of the host, not all of them");
        otherPort.Headers.GetValues("X-Gateway-Reason").Should().Equal("callback_host_not_allowed");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_callback_whose_address_is_refused_when_it_is_sent_fails_once_without_reaching_it()
    {
        // The call is accepted by a gateway that allows 127.0.0.1 and sent by one that does not:
        // what a name that resolved elsewhere at accept and to loopback at delivery (DNS
        // rebinding) looks like to the sender.
        await using var function = await TestUpstream.StartAsync();
        await using var receiver = await TestUpstream.StartAsync();
        var folder = Directory.CreateTempSubdirectory("fwatchdog-reach-").FullName;
        try
        {
            var stack = TestGateway.Stack(("echo", function.Url));
            Uri status;
            await using (var accepting = await TestGateway.StartAsync(stack, Defaults(("callback_allowed_hosts", "127.0.0.1"), ("queue_functions", "other")), folder))
            {
                using var accepted = await accepting.PostAsync("/async-function/echo", "x", ("X-Callback-Url", receiver.Url + "done"));
                accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
                status = accepted.Headers.Location ?? throw new InvalidOperationException("no Location");
            }

            await using var sending = await TestGateway.StartAsync(stack, Defaults(("callback_attempts", "5")), folder);
            var callback = await WaitForCallbackAsync(sending, status, "delivered", "failed");

            callback.GetProperty("state").GetString().Should().Be("failed");
            callback.GetProperty("attempts").GetInt32().Should().Be(1, "a refused address is not retried");
            callback.GetProperty("error").GetString().Should().Be("not delivered: refused address (see callback_allowed_hosts)");
            (await function.NextAsync()).Text.Should().Be("x", "the call itself ran");
            receiver.All.Should().BeEmpty();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task The_status_API_tells_neither_connection_errors_nor_redirect_locations_of_a_callback()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var receiver = await TestUpstream.StartAsync((context, _) =>
        {
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = "http://internal-secret.example:6379/flushall";
            return Task.CompletedTask;
        });
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)),
            Defaults(("callback_allowed_hosts", "127.0.0.1"), ("callback_attempts", "1")));
        using var refused = await gateway.PostAsync("/async-function/echo", "x", ("X-Callback-Url", $"http://127.0.0.1:{ClosedPort()}/x"));
        var notConnected = await WaitForCallbackAsync(gateway, refused, "delivered", "failed");
        notConnected.GetProperty("error").GetString().Should().Be("gave up after 1 attempts; last: not delivered: no answer (could not connect, or nothing within callback_timeout)");

        using var redirected = await gateway.PostAsync("/async-function/echo", "x", ("X-Callback-Url", receiver.Url + "moved"));
        var moved = await WaitForCallbackAsync(gateway, redirected, "delivered", "failed");
        moved.GetProperty("statusCode").GetInt32().Should().Be(302);
        moved.GetProperty("error").GetString().Should().Be("not delivered: the receiver answered 302; redirects are not followed");
        moved.ToString().Should().NotContain("internal-secret");
    }

    [Fact(Timeout = 60_000)]
    public async Task Template_names_that_resolve_to_loopback_get_the_same_404_as_names_that_do_not_resolve_sync_and_async()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync("{ \"functions\": {} }", Defaults(("upstream_template", $"http://{{name}}:{upstream.Url.Port}")));

        foreach (var name in new[] { "localhost", "ghost-that-does-not-resolve" })
        {
            using var sync = await gateway.Client.GetAsync($"/function/{name}/admin");
            sync.StatusCode.Should().Be(HttpStatusCode.NotFound, name);
            sync.Headers.GetValues("X-Gateway-Reason").Should().Equal(["function_not_found"], name);
            (await sync.Content.ReadAsStringAsync()).Should().Be($"function {name} does not exist\n");

            using var queued = await gateway.PostAsync($"/async-function/{name}", "x");
            queued.StatusCode.Should().Be(HttpStatusCode.NotFound, "async: " + name);
            queued.Headers.GetValues("X-Gateway-Reason").Should().Equal(["function_not_found"], name);
            (await queued.Content.ReadAsStringAsync()).Should().Be($"function {name} does not exist\n");
        }

        upstream.All.Should().BeEmpty("a caller reaches no address on the gateway's host by naming it");
    }

    [Fact(Timeout = 60_000)]
    public async Task Upstream_allow_local_lets_template_names_reach_loopback()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync("{ \"functions\": {} }",
            Defaults(("upstream_template", $"http://{{name}}:{upstream.Url.Port}"), ("upstream_allow_local", "true")));

        using var sync = await gateway.PostAsync("/function/localhost/x", "sync");
        sync.StatusCode.Should().Be(HttpStatusCode.OK);
        (await upstream.NextAsync()).Text.Should().Be("sync");
        using var queued = await gateway.PostAsync("/async-function/localhost/x", "async");
        queued.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await upstream.NextAsync()).Text.Should().Be("async");

        // An allowed name where nothing listens is a function that is down, not one that does not exist.
        await using var down = await TestGateway.StartAsync("{ \"functions\": {} }",
            Defaults(("upstream_template", $"http://{{name}}:{ClosedPort()}"), ("upstream_allow_local", "true")));
        using var refused = await down.Client.GetAsync("/function/localhost");
        refused.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        refused.Headers.GetValues("X-Gateway-Reason").Should().Equal("function_unreachable");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_queued_call_to_a_template_name_is_checked_again_when_it_runs()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var folder = Directory.CreateTempSubdirectory("fwatchdog-reach-").FullName;
        try
        {
            var template = $"http://{{name}}:{upstream.Url.Port}";
            Uri status;
            await using (var accepting = await TestGateway.StartAsync("{ \"functions\": {} }",
                Defaults(("upstream_template", template), ("upstream_allow_local", "true"), ("queue_functions", "other")), folder))
            {
                using var accepted = await accepting.PostAsync("/async-function/localhost", "x");
                accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
                status = accepted.Headers.Location ?? throw new InvalidOperationException("no Location");
            }

            await using var running = await TestGateway.StartAsync("{ \"functions\": {} }", Defaults(("upstream_template", template)), folder);
            var call = await WaitForStateAsync(running, status, "succeeded", "failed", "dead");

            call.GetProperty("state").GetString().Should().Be("failed", "a function that does not exist is not retried");
            call.GetProperty("statusCode").GetInt32().Should().Be(404);
            call.GetProperty("error").GetString().Should().Be("function_not_found: function localhost does not exist");
            upstream.All.Should().BeEmpty();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>A loopback port that was bound and closed again: nothing listens there.</summary>
    private static int ClosedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return (socket.LocalEndPoint as IPEndPoint)?.Port ?? throw new InvalidOperationException("no port");
    }

    private static Task<JsonElement> WaitForCallbackAsync(TestGateway gateway, HttpResponseMessage accepted, params string[] states)
    {
        accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
        return WaitForCallbackAsync(gateway, accepted.Headers.Location ?? throw new InvalidOperationException("no Location"), states);
    }

    private static async Task<JsonElement> WaitForCallbackAsync(TestGateway gateway, Uri status, params string[] states)
    {
        var call = await WaitForAsync(gateway, status, s => s.TryGetProperty("callback", out var c) && states.Contains(c.GetProperty("state").GetString()));
        return call.GetProperty("callback");
    }

    private static Task<JsonElement> WaitForStateAsync(TestGateway gateway, Uri status, params string[] states) =>
        WaitForAsync(gateway, status, s => states.Contains(s.GetProperty("state").GetString()));

    private static async Task<JsonElement> WaitForAsync(TestGateway gateway, Uri status, Func<JsonElement, bool> reached)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            last = await gateway.Client.GetFromJsonAsync<JsonElement>(status);
            if (reached(last))
            {
                return last;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"{status} did not get there within 20 s; last: {last}");
    }
}
