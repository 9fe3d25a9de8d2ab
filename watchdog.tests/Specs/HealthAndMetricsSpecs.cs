namespace Fwatchdog.Tests.Specs;

public sealed class HealthAndMetricsSpecs
{
    [Fact(Timeout = 30_000)]
    public async Task Health_and_ready_answer_200_while_serving_even_with_suppress_lock()
    {
        await using var watchdog = await TestWatchdog.StartAsync("cat", o => o with { SuppressLock = true });

        using var health = await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/_/health"));
        using var ready = await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/_/ready"));

        health.StatusCode.Should().Be(HttpStatusCode.OK);
        (await health.Content.ReadAsStringAsync()).Should().Be("OK");
        ready.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("/_/health")]
    [InlineData("/_/ready")]
    public async Task Head_on_health_answers_200_without_a_body(string path)
    {
        await using var watchdog = await TestWatchdog.StartAsync("cat");
        await using var client = await RawHttpClient.ConnectAsync(watchdog.Url);

        await client.SendHeadAsync("HEAD", path, 0);
        var (status, _) = await client.ReadHeadAsync();
        await client.SendHeadAsync("GET", path, 0);
        var (next, _) = await client.ReadHeadAsync();

        status.Should().Be(200);
        next.Should().Be(200, "no body followed the HEAD answer, so the next answer on the connection is read cleanly");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_call_refused_with_429_is_logged_with_the_reason_it_was_sent()
    {
        await using var watchdog = WatchdogProcess.Start(new Dictionary<string, string>
        {
            ["fprocess"] = "sleep 2",
            ["port"] = "0",
            ["metrics_port"] = "0",
            ["suppress_lock"] = "true",
            ["max_inflight"] = "1",
        });
        await watchdog.WaitUntilListeningAsync();
        using var client = new HttpClient();

        // Two calls at once, one slot, a 2 s function: one runs, the other is refused.
        var responses = await Task.WhenAll(client.GetAsync(watchdog.Url), client.GetAsync(watchdog.Url));
        try
        {
            responses.Select(r => r.StatusCode).Should().BeEquivalentTo([HttpStatusCode.OK, HttpStatusCode.TooManyRequests]);
            responses.Single(r => r.StatusCode == HttpStatusCode.TooManyRequests).Headers.GetValues("X-Watchdog-Reason").Should().Equal("busy");
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }

        (await Processes.EventuallyAsync(() => watchdog.Output.Contains(" 429 ", StringComparison.Ordinal), TimeSpan.FromSeconds(10))).Should().BeTrue();
        watchdog.Output.Split('\n').Single(line => line.Contains(" 429 ", StringComparison.Ordinal)).TrimEnd().Should().MatchRegex(" reason=busy trace=[0-9a-f]{32}$");
    }

    [Fact(Timeout = 30_000)]
    public async Task Ready_answers_429_while_max_inflight_is_reached()
    {
        await using var watchdog = await TestWatchdog.StartAsync("sleep 2", o => o with { MaxInflight = 1 });
        var call = watchdog.Client.GetAsync(watchdog.Url);
        await Processes.EventuallyAsync(() => false, TimeSpan.FromMilliseconds(500));

        using var ready = await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/_/ready"));
        using var health = await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/_/health"));

        ready.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        health.StatusCode.Should().Be(HttpStatusCode.OK, "liveness does not depend on load");
        (await call).Dispose();
    }

    [Fact(Timeout = 30_000)]
    public async Task Metrics_use_the_OpenFaaS_names_and_labels()
    {
        var metricsPort = Ports.Unshared();
        await using var watchdog = await TestWatchdog.StartAsync("sh -c 'exit ${Http_Query:-0}'", o => o with { MetricsPort = metricsPort });
        (await watchdog.Client.PostAsync(watchdog.Url, new StringContent("x"))).Dispose();
        (await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/?1"))).Dispose();
        (await watchdog.Client.SendAsync(new HttpRequestMessage(HttpMethod.Options, watchdog.Url))).Dispose();
        (await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/_/health"))).Dispose();

        var text = await watchdog.Client.GetStringAsync(watchdog.MetricsUrl);

        text.Should().Contain("http_requests_total{code=\"200\",method=\"post\"} 1");
        text.Should().Contain("http_requests_total{code=\"500\",method=\"get\"} 1");
        text.Should().Contain("http_requests_total{code=\"405\",method=\"options\"} 1");
        text.Should().Contain("http_request_duration_seconds_bucket{code=\"200\",method=\"post\",le=\"0.005\"}");
        text.Should().Contain("http_requests_in_flight 0");
        text.Should().NotContain("code=\"200\",method=\"get\"", "health checks are not function calls");
    }

    [Fact(Timeout = 30_000)]
    public async Task Metrics_port_serves_only_metrics()
    {
        var metricsPort = Ports.Unshared();
        await using var watchdog = await TestWatchdog.StartAsync("cat", o => o with { MetricsPort = metricsPort });

        using var response = await watchdog.Client.GetAsync(new Uri($"http://127.0.0.1:{metricsPort}/other"));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}
