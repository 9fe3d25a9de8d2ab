using Fwatchdog.Gateway;
using Fwatchdog.Gateway.Async;
using Fwatchdog.Gateway.Functions;
using Fwatchdog.Gateway.Sync;

namespace Fwatchdog.Tests.Gateway;

public sealed class GatewayUnitTests : FastTier
{
    [Theory]
    [InlineData("/function/echo", "echo", "/", "")]
    [InlineData("/function/echo/", "echo", "/", "")]
    [InlineData("/function/echo?x=1", "echo", "/", "x=1")]
    [InlineData("/function/echo/a%2Fb/c?x=%23", "echo", "/a%2Fb/c", "x=%23")]
    [InlineData("/function/figlet.openfaas-fn/a/b/", "figlet.openfaas-fn", "/a/b/", "")]
    [InlineData("http://gw:8080/function/echo/p?q", "echo", "/p", "q")]
    public void Route_keeps_the_raw_sub_path_and_query(string target, string name, string subPath, string query)
    {
        FunctionRoute.TryParse(target, "/function/", out var route).Should().BeTrue();
        route.Should().Be(new FunctionRoute(name, subPath, query));
    }

    [Theory]
    [InlineData("figlet", "figlet", "openfaas-fn")]
    [InlineData("figlet.dev", "figlet", "dev")]
    [InlineData("dev.figlet.openfaas-fn", "dev.figlet", "openfaas-fn")]
    [InlineData("trailing.", "trailing.", "openfaas-fn")]
    public void Namespace_splits_at_the_last_dot(string addressed, string name, string ns) =>
        FunctionName.Split(addressed, "openfaas-fn").Should().Be((name, ns));

    [Theory]
    [InlineData("hooks.example.com", "hooks.example.com", 443, true)]
    [InlineData("hooks.example.com", "HOOKS.example.com", 80, true)]
    [InlineData("hooks.example.com", "evil.com", 443, false)]
    [InlineData("*.example.com", "a.example.com", 443, true)]
    [InlineData("*.example.com", "a.b.example.com", 8080, true)]
    [InlineData("*.example.com", "example.com", 443, false)]
    [InlineData("*.example.com", "badexample.com", 443, false)]
    [InlineData("127.0.0.1:8080", "127.0.0.1", 8080, true)]
    [InlineData("127.0.0.1:8080", "127.0.0.1", 8082, false)]
    [InlineData("localhost:9000", "LOCALHOST", 9000, true)]
    [InlineData("[::1]:8080", "[::1]", 8080, true)]
    [InlineData("[::1]:8080", "[::1]", 22, false)]
    [InlineData("[::1]", "[::1]", 22, true)]
    [InlineData("*.example.com:443", "a.example.com", 443, true)]
    [InlineData("*.example.com:443", "a.example.com", 80, false)]
    public void Callback_allow_list_matches_hosts_subdomains_and_ports(string allowed, string host, int port, bool matches) =>
        CallbackPolicy.Matches(allowed, host, port).Should().Be(matches);

    [Theory]
    [InlineData(1, 100, 100)]
    [InlineData(2, 100, 200)]
    [InlineData(4, 100, 800)]
    [InlineData(10, 100, 1000)]
    public void Retry_delay_grows_exponentially_with_jitter_under_the_cap(int attempt, int initialMs, int ceilingMs)
    {
        var policy = new RetryPolicy(new HashSet<int> { 503 }, TimeSpan.FromMilliseconds(initialMs), TimeSpan.FromSeconds(1));
        for (var seed = 0; seed < 50; seed++)
        {
            var delay = policy.Delay(attempt, null, DateTimeOffset.UnixEpoch, new Random(seed));
            delay.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(initialMs)).And.BeLessThanOrEqualTo(TimeSpan.FromMilliseconds(ceilingMs));
        }
    }

    [Fact]
    public void Retry_After_wins_when_longer_but_stays_under_max_retry_wait()
    {
        var policy = new RetryPolicy(new HashSet<int>(), TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(30));
        policy.Delay(1, new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(5)), DateTimeOffset.UnixEpoch, new Random(1))
            .Should().Be(TimeSpan.FromSeconds(5));
        policy.Delay(1, new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromMinutes(5)), DateTimeOffset.UnixEpoch, new Random(1))
            .Should().Be(TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData("upstream_timeout", "0", "upstream_timeout=\"0\" (env upstream_timeout): must be above zero")]
    [InlineData("queue_lease", "forever", "queue_lease=\"forever\" (env queue_lease): not a duration")]
    [InlineData("max_attempts", "0", "max_attempts=\"0\" (env max_attempts): must be above zero")]
    [InlineData("retry_codes", "429,9000", "retry_codes=\"429,9000\" (env retry_codes): \"9000\" is not an HTTP status code")]
    [InlineData("upstream_template", "http://fixed:8080", "upstream_template=\"http://fixed:8080\" (env upstream_template): not an http:// address containing {name}")]
    [InlineData("bind_address", "everywhere", "bind_address=\"everywhere\" (env bind_address): not an IP address")]
    [InlineData("callback_secret_file", "/no/such/file", "callback_secret_file=\"/no/such/file\" (env callback_secret_file): cannot be read")]
    [InlineData("queue", "redis", "queue=\"redis\" (env queue): not a queue backend (sqlite or nats); use e.g. queue=nats")]
    [InlineData("nats_url", "http://nats:4222", "nats_url=\"http://nats:4222\" (env nats_url): not a NATS URL")]
    [InlineData("nats_stream", "jobs.v1", "nats_stream=\"jobs.v1\" (env nats_stream): not a valid NATS name")]
    [InlineData("nats_subject", "jobs.*", "nats_subject=\"jobs.*\" (env nats_subject): not a valid NATS name")]
    [InlineData("basic_auth", "true", "secret_mount_path=\"/nonexistent-secrets\" (basic_auth=true): /nonexistent-secrets/basic-auth-user cannot be read")]
    public void Bad_settings_are_named_with_their_value_and_source(string name, string value, string error)
    {
        var outcome = GatewayOptions.Parse(new Dictionary<string, string?>
        {
            ["upstream_template"] = "http://{name}:8080",
            ["secret_mount_path"] = "/nonexistent-secrets",
            [name] = value,
        }, new Dictionary<string, string>());

        outcome.Value.Should().BeNull();
        outcome.Errors.Should().Contain(e => e.StartsWith(error, StringComparison.Ordinal));
    }

    [Fact]
    public void A_gateway_needs_a_stack_file_or_an_upstream_template()
    {
        var outcome = GatewayOptions.Parse(new Dictionary<string, string?>(), new Dictionary<string, string>());
        outcome.Errors.Should().ContainSingle().Which.Should().StartWith("config is not set");
    }

    [Fact]
    public void Flags_win_over_the_environment()
    {
        var outcome = GatewayOptions.Parse(new Dictionary<string, string?> { ["upstream_template"] = "http://{name}:8080", ["port"] = "9000" },
            new Dictionary<string, string> { ["port"] = "9100" });
        outcome.Value?.Port.Should().Be(9100);
    }

    [Fact]
    public void Max_inflight_is_read_as_queue_workers_like_the_OpenFaaS_queue_worker()
    {
        var outcome = GatewayOptions.Parse(new Dictionary<string, string?> { ["upstream_template"] = "http://{name}:8080", ["max_inflight"] = "3" },
            new Dictionary<string, string>());
        outcome.Value?.QueueWorkers.Should().Be(3);
    }

    [Fact]
    public void Stack_file_errors_name_the_function_and_field()
    {
        var errors = new List<string>();
        StackFile.Parse("s.json", """{ "functions": { "bad name": { "upstream": "http://x" }, "x": { "upstream": "http://x", "environment": { "a": "b" } }, "y": { "fprocess": "cat", "max_concurrency": 0 }, "z": { "fprocess": "cat", "colour": "red" } } }""", hasTemplate: false, errors);
        errors.Should().HaveCount(4, "every problem is named, not only the first")
            .And.Contain(e => e.Contains("functions.z.colour: unknown property", StringComparison.Ordinal));

        errors.Clear();
        var functions = StackFile.Parse("s.json", """{ "functions": { "bad name": { "upstream": "http://x" }, "x": { "upstream": "http://x", "environment": { "a": "b" } }, "y": { "fprocess": "cat", "max_concurrency": 0 } } }""", hasTemplate: false, errors);
        errors.Should().HaveCount(3);
        errors.Should().Contain(e => e.Contains("functions.bad name: \"bad name\" is not a function name", StringComparison.Ordinal));
        errors.Should().Contain(e => e.Contains("functions.x: \"environment\" and \"working_directory\" only apply to a local function", StringComparison.Ordinal));
        errors.Should().Contain(e => e.Contains("functions.y.max_concurrency=0: must be 1 or more", StringComparison.Ordinal));
        functions.Select(f => f.Name).Should().Equal("x", "y");
    }
}
