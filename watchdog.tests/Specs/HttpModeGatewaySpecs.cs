namespace Fwatchdog.Tests.Specs;

/// <summary>The gateway's stack file accepts mode=http local functions: their environment reaches the child watchdog.</summary>
public sealed class HttpModeGatewaySpecs
{
    [Fact(Timeout = 90_000)]
    public async Task A_local_function_in_mode_http_is_reached_through_the_gateway()
    {
        using var upstream = new HttpModeUpstream();
        upstream.Touch("gate");
        await using var gateway = await StartGatewayAsync(upstream);

        (await Processes.EventuallyAsync(async () => (await gateway.Client.GetAsync("/function/py/pid")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(60)))
            .Should().BeTrue();
        using var response = await gateway.Client.PostAsync("/function/py/inspect?q=1", new StringContent("hello"));
        var text = await response.Content.ReadAsStringAsync();

        ((int)response.StatusCode).Should().Be(201);
        text.Should().StartWith("POST /inspect?q=1\n").And.EndWith("\n\nhello");
    }

    [Fact(Timeout = 90_000)]
    public async Task A_local_function_whose_server_boots_slowly_is_waited_for_not_restarted()
    {
        using var upstream = new HttpModeUpstream();
        await using var gateway = await StartGatewayAsync(upstream);
        var host = gateway.App.LocalFunctions["py"];

        // The child watchdog answers 503 upstream-not-ready while its function boots: once the
        // function has started, the gate stays shut for ten of the gateway's 100 ms health checks,
        // where three failed checks would restart a function that had been ready.
        (await Processes.EventuallyAsync(() => upstream.Has("booting"), TimeSpan.FromSeconds(60))).Should().BeTrue("the child watchdog starts the function");
        await Task.Delay(TimeSpan.FromSeconds(1));
        upstream.Touch("gate");
        (await Processes.EventuallyAsync(async () => (await gateway.Client.GetAsync("/function/py/pid")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(60)))
            .Should().BeTrue();

        host.Starts.Should().Be(1, "a function that is still starting is not unhealthy");
    }

    private static async Task<TestGateway> StartGatewayAsync(HttpModeUpstream upstream)
    {
        var env = upstream.Environment();
        var function = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["fprocess"] = env["fprocess"] ?? "",
            ["environment"] = new Dictionary<string, string> { ["mode"] = "http", ["http_upstream_url"] = env["http_upstream_url"] ?? "" },
        });
        return await TestGateway.StartAsync(TestGateway.Stack(("py", function)));
    }
}
