using System.Net.Http.Headers;

namespace Fwatchdog.Tests.Specs;

/// <summary>/healthz, /system/functions with basic auth, and the Prometheus metrics.</summary>
public sealed class GatewaySystemSpecs : FastTier
{
    [Fact(Timeout = 30_000)]
    public async Task Routes_match_exactly_so_another_case_or_a_trailing_slash_is_404_not_found()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)));

        foreach (var path in new[] { "/HEALTHZ", "/healthz/", "/readyz/", "/Function/echo", "/function", "/Async-Function/echo", "/metrics" })
        {
            using var response = await gateway.Client.GetAsync(path);
            response.StatusCode.Should().Be(HttpStatusCode.NotFound, path);
            response.Headers.GetValues("X-Gateway-Reason").Should().Equal(["not_found"], path);
        }

        (await gateway.Client.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await gateway.PostAsync("/function/echo", "x")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact(Timeout = 30_000)]
    public async Task System_routes_need_basic_auth_from_secret_files_while_functions_and_healthz_do_not()
    {
        var secrets = Directory.CreateTempSubdirectory("fwatchdog-secrets-").FullName;
        await File.WriteAllTextAsync(Path.Combine(secrets, "basic-auth-user"), "admin\n");
        await File.WriteAllTextAsync(Path.Combine(secrets, "basic-auth-password"), "pa55\n");
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)), new Dictionary<string, string>
        {
            ["basic_auth"] = "true",
            ["secret_mount_path"] = secrets,
        });

        using (var anonymous = await gateway.Client.GetAsync("/system/functions"))
        {
            anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            anonymous.Headers.WwwAuthenticate.ToString().Should().Be("Basic realm=\"Restricted\"");
        }

        using (var wrong = new HttpRequestMessage(HttpMethod.Get, "/system/functions"))
        {
            wrong.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:nope")));
            (await gateway.Client.SendAsync(wrong)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        }

        (await gateway.Client.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await gateway.Client.GetAsync("/readyz")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await gateway.PostAsync("/function/echo", "x")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await gateway.PostAsync("/function/echo", "x")).StatusCode.Should().Be(HttpStatusCode.OK);

        using var authorized = new HttpRequestMessage(HttpMethod.Get, "/system/functions");
        authorized.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:pa55")));
        using var list = await gateway.Client.SendAsync(authorized);
        list.StatusCode.Should().Be(HttpStatusCode.OK);
        var functions = await list.Content.ReadFromJsonAsync<JsonElement>();
        var echo = functions.EnumerateArray().Single();
        echo.GetProperty("name").GetString().Should().Be("echo");
        echo.GetProperty("kind").GetString().Should().Be("upstream");
        echo.GetProperty("ready").GetBoolean().Should().BeTrue();
        echo.GetProperty("invocationCount").GetInt64().Should().Be(2);
        Directory.Delete(secrets, recursive: true);
    }

    [Fact(Timeout = 30_000)]
    public async Task Metrics_count_calls_by_function_and_code_and_show_the_queue()
    {
        await using var function = await TestUpstream.StartAsync();
        var metricsPort = Ports.Unshared();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)), new Dictionary<string, string> { ["metrics_port"] = metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        (await gateway.PostAsync("/function/echo", "x")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await gateway.PostAsync("/function/nope", "x")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        using var accepted = await gateway.PostAsync("/async-function/echo", "x");
        await gateway.WaitForStateAsync(accepted.Headers.GetValues("X-Call-Id").Single(), TimeSpan.FromSeconds(10), "succeeded");

        using var client = new HttpClient();
        var text = await client.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
        text.Should().Contain("gateway_function_invocation_total{function_name=\"echo\",code=\"200\"} 2")
            .And.Contain("gateway_functions_seconds_count{function_name=\"echo\",code=\"200\"} 2")
            .And.Contain("gateway_async_jobs_total{function_name=\"echo\",state=\"accepted\"} 1")
            .And.Contain("gateway_async_jobs_total{function_name=\"echo\",state=\"succeeded\"} 1")
            .And.Contain("gateway_async_queue_depth{state=\"succeeded\"} 1")
            .And.Contain("gateway_async_queue_depth{state=\"queued\"} 0");
    }
}
