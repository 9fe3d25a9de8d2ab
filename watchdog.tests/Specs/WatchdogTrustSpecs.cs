using System.Text.RegularExpressions;
using Fwatchdog.Configuration;
using Fwatchdog.Execution;

namespace Fwatchdog.Tests.Specs;

/// <summary>
/// What a caller cannot smuggle to a function, and what a failure tells it: control characters in
/// header values or in the request target are refused with 400 at every entry (gateway sync and
/// async, every watchdog mode) before a function sees them; a fprocess that cannot run stops the
/// start instead of failing every call; failure bodies never carry the server's environment.
/// </summary>
public sealed class WatchdogTrustSpecs
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(20);

    /// <summary>Header values with a control character (other than tab) Kestrel itself lets through.</summary>
    public static readonly string[] BadHeaderValues = ["a\u0001b", "a\u001b[31mred", "a\u007fb", "a\u000bb", "a\u000cb"];

    /// <summary>Request targets with a control character Kestrel itself lets through: bare CR, VT, FF, DEL, SOH, ESC, tab.</summary>
    public static readonly string[] BadTargetTails = ["a\rb", "a\u000bb", "a\u000cb", "a\u007fb", "a\u0001b", "a\u001bb", "a\tb"];

    [Fact(Timeout = 60_000)]
    public async Task The_gateway_refuses_control_characters_in_header_values_and_targets_with_400_sync_and_async_and_the_function_never_sees_them()
    {
        await using var upstream = ScriptedUpstream.Start(exchange => exchange.WriteAsync(ScriptedUpstream.OwnAnswer(exchange.Request)));
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("fn", upstream.Url)));

        foreach (var (method, prefix) in new[] { ("GET", "/function/fn"), ("POST", "/async-function/fn") })
        {
            foreach (var value in BadHeaderValues)
            {
                var (status, headers, body) = await ExchangeAsync(gateway.Url, method, prefix, "X-Marker: bad", $"X-Name: {value}");
                status.Should().Be(400, $"{method} {prefix} with X-Name {Escape(value)}");
                headers["X-Gateway-Reason"].Should().Be("bad_header");
                body.Should().Contain("X-Name").And.Contain("control character");
                headers.Should().ContainKey("X-Call-Id", "every gateway answer names a call id");
            }

            foreach (var tail in BadTargetTails)
            {
                var (status, headers, body) = await ExchangeAsync(gateway.Url, method, $"{prefix}/{tail}", "X-Marker: bad");
                status.Should().Be(400, $"{method} {prefix}/{Escape(tail)}");
                headers["X-Gateway-Reason"].Should().Be("bad_path");
                body.Should().Contain("request target").And.Contain("control character");
            }

            var (callIdStatus, callIdHeaders, _) = await ExchangeAsync(gateway.Url, method, prefix, "X-Marker: bad", "X-Call-Id: id\u0001x");
            callIdStatus.Should().Be(400, $"{method} {prefix} with a control character in X-Call-Id");
            callIdHeaders["X-Call-Id"].Should().NotContain("\u0001");
        }

        var (syncStatus, _, syncBody) = await ExchangeAsync(gateway.Url, "GET", "/function/fn", "X-Marker: good-sync");
        syncStatus.Should().Be(200);
        syncBody.Should().Be("own:good-sync");
        var (asyncStatus, _, _) = await ExchangeAsync(gateway.Url, "POST", "/async-function/fn", "X-Marker: good-async");
        asyncStatus.Should().Be(202);
        (await Processes.EventuallyAsync(() => upstream.Requests.Any(r => r.Header("X-Marker") == "good-async"), Within)).Should().BeTrue();

        upstream.Requests.Select(r => r.Header("X-Marker")).Should().BeEquivalentTo(["good-sync", "good-async"], "no refused call reached the function");
    }

    [Fact(Timeout = 60_000)]
    public async Task Mode_http_refuses_control_characters_with_400_an_access_line_and_a_metric_and_the_upstream_never_sees_them()
    {
        await using var upstream = ScriptedUpstream.Start(exchange => exchange.WriteAsync(ScriptedUpstream.OwnAnswer(exchange.Request)));
        var metricsPort = Ports.Unshared();
        await using var watchdog = StartWatchdogProcess(metricsPort, ("fprocess", "sleep 600"), ("mode", "http"), ("http_upstream_url", upstream.Url.ToString()));
        await watchdog.WaitUntilListeningAsync();
        (await Processes.EventuallyAsync(async () => (await ExchangeAsync(watchdog.Url, "GET", "/_/health")).Status == 200, Within)).Should().BeTrue(watchdog.Output);

        var refused = 0;
        foreach (var value in BadHeaderValues)
        {
            var (status, headers, body) = await ExchangeAsync(watchdog.Url, "GET", "/header", "X-Marker: bad", $"X-Name: {value}");
            status.Should().Be(400, $"X-Name {Escape(value)}");
            headers["X-Watchdog-Reason"].Should().Be("bad-header");
            body.Should().Contain("X-Name").And.Contain("control character");
            refused++;
        }

        foreach (var tail in BadTargetTails)
        {
            var (status, headers, body) = await ExchangeAsync(watchdog.Url, "GET", "/target/" + tail, "X-Marker: bad");
            status.Should().Be(400, Escape(tail));
            headers["X-Watchdog-Reason"].Should().Be("bad-path");
            body.Should().Contain("request target").And.Contain("control character");
            refused++;
        }

        var (okStatus, _, okBody) = await ExchangeAsync(watchdog.Url, "GET", "/ok", "X-Marker: good");
        okStatus.Should().Be(200);
        okBody.Should().Be("own:good");

        upstream.Requests.Select(r => r.Header("X-Marker")).Should().Equal(["good"], "no refused call reached the function's server");
        (await Processes.EventuallyAsync(() => AccessLines(watchdog, " 400 ").Count == refused, Within)).Should().BeTrue(watchdog.Output);
        AccessLines(watchdog, " 400 ").Should().OnlyContain(line => Regex.IsMatch(line, " reason=bad-(header|path) trace=[0-9a-f]{32}$"));
        (await MetricsAsync(metricsPort)).Should().Contain($"http_requests_total{{code=\"400\",method=\"get\"}} {refused}");
    }

    [Fact(Timeout = 60_000)]
    public async Task Mode_http_answers_a_call_id_with_a_control_character_with_400_and_an_access_line_not_a_stack_trace()
    {
        await using var upstream = ScriptedUpstream.Start(exchange => exchange.WriteAsync(ScriptedUpstream.OwnAnswer(exchange.Request)));
        await using var watchdog = StartWatchdogProcess(0, ("fprocess", "sleep 600"), ("mode", "http"), ("http_upstream_url", upstream.Url.ToString()));
        await watchdog.WaitUntilListeningAsync();
        (await Processes.EventuallyAsync(async () => (await ExchangeAsync(watchdog.Url, "GET", "/_/health")).Status == 200, Within)).Should().BeTrue(watchdog.Output);

        var (status, headers, body) = await ExchangeAsync(watchdog.Url, "GET", "/call", "X-Call-Id: id\u0001\u001b[2Jx");

        status.Should().Be(400);
        headers["X-Watchdog-Reason"].Should().Be("bad-header");
        body.Should().Contain("X-Call-Id").And.NotContain("   at ").And.NotContain("Exception");
        headers["X-Call-Id"].Should().MatchRegex("^[0-9a-f-]{36}$", "the refused id is replaced by a new one");
        (await Processes.EventuallyAsync(() => AccessLines(watchdog, " 400 ").Count == 1, Within)).Should().BeTrue(watchdog.Output);
        AccessLines(watchdog, " 400 ").Single().Should().Contain($"call={headers["X-Call-Id"]}").And.MatchRegex(" reason=bad-header trace=[0-9a-f]{32}$");
        watchdog.Output.Should().NotContain("\u001b", "the caller's bytes are not written to the log").And.NotContain("   at ");
        upstream.Requests.Should().BeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task Fork_mode_refuses_control_characters_in_the_target_and_headers_with_400_and_an_access_line_before_the_function_runs()
    {
        var ran = Path.Combine(Directory.CreateTempSubdirectory("trust-").FullName, "ran");
        await using var watchdog = StartWatchdogProcess(0, ("fprocess", $"sh -c 'echo ran >> {ran}'"));
        await watchdog.WaitUntilListeningAsync();

        var refused = 0;
        foreach (var tail in BadTargetTails)
        {
            var (status, headers, body) = await ExchangeAsync(watchdog.Url, "GET", "/target/" + tail);
            status.Should().Be(400, Escape(tail));
            headers["X-Watchdog-Reason"].Should().Be("bad-path");
            body.Should().Contain("request target").And.Contain("control character");
            refused++;
        }

        foreach (var value in BadHeaderValues)
        {
            var (status, headers, _) = await ExchangeAsync(watchdog.Url, "GET", "/header", $"X-Name: {value}");
            status.Should().Be(400, Escape(value));
            headers["X-Watchdog-Reason"].Should().Be("bad-header");
            refused++;
        }

        var (callIdStatus, _, _) = await ExchangeAsync(watchdog.Url, "GET", "/call", "X-Call-Id: id\u001b[2Jx");
        callIdStatus.Should().Be(400);
        refused++;

        File.Exists(ran).Should().BeFalse("the function never ran for a refused call");
        (await Processes.EventuallyAsync(() => AccessLines(watchdog, " 400 ").Count == refused, Within)).Should().BeTrue(watchdog.Output);

        // Percent-encoded, the same bytes are a good request: the function runs, and the decoded path is logged escaped.
        (await ExchangeAsync(watchdog.Url, "GET", "/esc%1B[2Jx")).Status.Should().Be(200);
        (await Processes.EventuallyAsync(() => AccessLines(watchdog, " 200 ").Count == 1, Within)).Should().BeTrue(watchdog.Output);
        AccessLines(watchdog, " 200 ").Single().Should().Contain("GET /esc\\x1b[2Jx 200");
        watchdog.Output.Should().NotContain("\u001b", "the caller's bytes are not written to the log");
    }

    [Fact(Timeout = 30_000)]
    public async Task Static_mode_refuses_control_characters_in_the_target_and_headers_with_400()
    {
        var folder = Directory.CreateTempSubdirectory("trust-static-").FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "a"), "file a");
        await using var watchdog = await TestWatchdog.StartAsync(new Dictionary<string, string?> { ["mode"] = "static", ["static_path"] = folder });

        foreach (var tail in BadTargetTails)
        {
            var (status, headers, _) = await ExchangeAsync(watchdog.Url, "GET", "/" + tail);
            status.Should().Be(400, Escape(tail));
            headers["X-Watchdog-Reason"].Should().Be("bad-path");
        }

        foreach (var value in BadHeaderValues)
        {
            var (status, headers, _) = await ExchangeAsync(watchdog.Url, "GET", "/a", $"X-Name: {value}");
            status.Should().Be(400, Escape(value));
            headers["X-Watchdog-Reason"].Should().Be("bad-header");
        }

        (await ExchangeAsync(watchdog.Url, "GET", "/a")).Body.Should().Be("file a");
    }

    [Theory(Timeout = 60_000)]
    [InlineData("streaming", "no-such-program-anywhere --flag", "\"no-such-program-anywhere\" was not found on PATH")]
    [InlineData("streaming", "/no/such/binary", "\"/no/such/binary\" does not exist")]
    [InlineData("streaming", "./no/such/relative", "\"./no/such/relative\" does not exist")]
    [InlineData("serializing", "{not-executable} x", "is not executable")]
    [InlineData("http", "no-such-program-anywhere", "\"no-such-program-anywhere\" was not found on PATH")]
    public async Task A_fprocess_that_cannot_run_stops_the_start_with_exit_2_and_one_line_naming_it(string mode, string fprocess, string expected)
    {
        var plainFile = Path.GetTempFileName();
        File.SetUnixFileMode(plainFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        fprocess = fprocess.Replace("{not-executable}", plainFile, StringComparison.Ordinal);
        var environment = new Dictionary<string, string>
        {
            ["fprocess"] = fprocess,
            ["mode"] = mode,
            ["http_upstream_url"] = "http://127.0.0.1:9",
            ["port"] = "0",
            ["bind_address"] = "127.0.0.1",
            ["metrics_port"] = "0",
            ["suppress_lock"] = "true",
        };

        var (exit, output) = await WatchdogProcess.RunAsync(environment);

        exit.Should().Be(2, output);
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().ContainSingle(l => l.Contains("fwatchdog: cannot start:", StringComparison.Ordinal)).Which;
        line.Should().StartWith($"fwatchdog: cannot start: fprocess=\"{fprocess}\": ").And.Contain(expected);
        output.Should().NotContain("   at ").And.NotContain("Listening on port");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_relative_fprocess_with_a_slash_is_found_from_the_working_directory()
    {
        var folder = Directory.CreateTempSubdirectory("trust-cwd-").FullName;
        Directory.CreateDirectory(Path.Combine(folder, "bin"));
        var script = Path.Combine(folder, "bin", "hello.sh");
        await File.WriteAllTextAsync(script, "#!/bin/sh\necho hello from cwd\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await using var watchdog = WatchdogProcess.Start(
            new Dictionary<string, string> { ["fprocess"] = "./bin/hello.sh", ["port"] = "0", ["bind_address"] = "127.0.0.1", ["metrics_port"] = "0", ["suppress_lock"] = "true" },
            workingDirectory: folder);
        await watchdog.WaitUntilListeningAsync();

        (await ExchangeAsync(watchdog.Url, "GET", "/")).Body.Should().Be("hello from cwd\n");
    }

    [Fact]
    public void A_program_not_found_is_described_without_the_search_path()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";

        ExecutableResolver.TryResolve("no-such-program-anywhere", out _, out var error).Should().BeFalse();

        error.Should().Contain("\"no-such-program-anywhere\" was not found on PATH");
        path.Split(':', StringSplitOptions.RemoveEmptyEntries).Should().NotContain(dir => error.Contains(dir, StringComparison.Ordinal),
            "an error that can reach an HTTP caller never carries the server's environment");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_program_removed_after_the_start_is_a_500_that_names_it_without_the_environment()
    {
        var folder = Directory.CreateTempSubdirectory("trust-path-").FullName;
        var program = Path.Combine(folder, "fw-trust-probe");
        await File.WriteAllTextAsync(program, "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = folder + ":" + Environment.GetEnvironmentVariable("PATH");
        await using var watchdog = StartWatchdogProcess(0, ("fprocess", "fw-trust-probe"), ("PATH", path), ("FW_TRUST_SECRET", "s3cr3t-value"));
        await watchdog.WaitUntilListeningAsync();
        File.Delete(program);

        var (status, headers, body) = await ExchangeAsync(watchdog.Url, "GET", "/");

        status.Should().Be(500);
        headers["X-Watchdog-Reason"].Should().Be("start-failed");
        body.Should().Contain("fw-trust-probe").And.NotContain(path).And.NotContain("PATH").And.NotContain("s3cr3t-value");
    }

    private static WatchdogProcess StartWatchdogProcess(int metricsPort, params (string Name, string Value)[] settings)
    {
        var environment = new Dictionary<string, string>
        {
            ["port"] = "0",
            ["bind_address"] = "127.0.0.1",
            ["metrics_port"] = metricsPort.ToString(CultureInfo.InvariantCulture),
            ["suppress_lock"] = "true",
        };
        foreach (var (name, value) in settings)
        {
            environment[name] = value;
        }

        return WatchdogProcess.Start(environment);
    }

    private static List<string> AccessLines(WatchdogProcess watchdog, string status) =>
        watchdog.Output.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Contains(status, StringComparison.Ordinal) && l.Contains(" call=", StringComparison.Ordinal)).ToList();

    private static async Task<string> MetricsAsync(int port)
    {
        using var client = new HttpClient();
        return await client.GetStringAsync(new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/metrics"));
    }

    private static async Task<(int Status, Dictionary<string, string> Headers, string Body)> ExchangeAsync(Uri url, string method, string target, params string[] headers)
    {
        await using var client = await RawHttpClient.ConnectAsync(url);
        return await client.ExchangeAsync(method, target, headers);
    }

    private static string Escape(string text)
    {
        var escaped = new StringBuilder();
        foreach (var c in text)
        {
            escaped.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString());
        }

        return escaped.ToString();
    }
}
