using Fwatchdog.Native;

namespace Fwatchdog.Tests.Specs;

/// <summary>
/// The OpenFaaS templates' three patterns, with handlers of our own written the way the templates
/// are (Fixtures/templates: an express app from npm, a Flask app on waitress from Debian's
/// packages, a classic stdin handler), run with the templates' own ENV lines: what users of those
/// templates rely on, as docs/watchdog.md promises it.
/// </summary>
public sealed class TemplateHandlerSpecs
{
    public static TheoryData<string> HttpTemplates => new() { "express", "flask" };

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(HttpTemplates))]
    public async Task A_framework_behind_mode_http_sees_the_callers_host_and_body_and_stops_inside_dockers_grace(string template)
    {
        var upstreamPort = Ports.Unshared();
        await using var watchdog = Start(template, upstreamPort);
        await watchdog.WaitUntilListeningAsync();
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        await WaitUntilHealthyAsync(client, watchdog);

        using var call = new HttpRequestMessage(HttpMethod.Post, new Uri(watchdog.Url, "/orders?id=7")) { Content = new StringContent("two books") };
        call.Headers.Host = "shop.example.com";
        using var answer = await client.SendAsync(call);
        var seen = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement;

        answer.StatusCode.Should().Be(HttpStatusCode.OK);
        seen.GetProperty("host").GetString().Should().Be("shop.example.com", "the of-watchdog passes the caller's Host on");
        seen.GetProperty("forwardedHost").GetString().Should().Be("shop.example.com");
        seen.GetProperty("method").GetString().Should().Be("POST");
        seen.GetProperty("path").GetString().Should().Be("/orders");
        seen.GetProperty("body").GetString().Should().Be("two books");

        // docker stop: SIGTERM, then SIGKILL 10 s later. The call in flight is answered, and the
        // watchdog exits once no call has been in flight or arrived for 1 s (docs/watchdog.md#lifecycle).
        var slow = client.GetStringAsync(new Uri(watchdog.Url, "/slow"));
        (await Processes.EventuallyAsync(() => watchdog.Output.Contains("slow: started", StringComparison.Ordinal), TimeSpan.FromSeconds(20)))
            .Should().BeTrue($"the call reaches the framework; the watchdog printed:\n{watchdog.Output}");
        var clock = Stopwatch.StartNew();
        watchdog.Signal(Libc.SIGTERM);

        (await slow).Should().Be("slow done");
        await watchdog.WaitForExitAsync(TimeSpan.FromSeconds(20));
        watchdog.ExitCode.Should().Be(0, watchdog.Output);
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "docker stop sends SIGKILL 10 s after SIGTERM");
        IsListening(upstreamPort).Should().BeFalse("the framework's server stops with the watchdog");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_classic_stdin_handler_with_only_fprocess_set_answers_and_stops_inside_dockers_grace()
    {
        await using var watchdog = Start("classic", upstreamPort: null);
        await watchdog.WaitUntilListeningAsync();
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        using var answer = await client.PostAsync(watchdog.Url, new StringContent("Ada"));

        answer.StatusCode.Should().Be(HttpStatusCode.OK);
        (await answer.Content.ReadAsStringAsync()).Should().Be("Hello! You said: Ada\n");

        var clock = Stopwatch.StartNew();
        watchdog.Signal(Libc.SIGTERM);
        await watchdog.WaitForExitAsync(TimeSpan.FromSeconds(20));

        watchdog.ExitCode.Should().Be(0, watchdog.Output);
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "idle, with write_timeout's default 30 s window, it still exits long before docker's SIGKILL");
    }

    /// <summary>
    /// fwatchdog with the template's ENV lines, in the template's folder, as its image would run it:
    /// Debian's python3 and node first on PATH. The upstream port becomes one of <see cref="Ports.Unshared"/>.
    /// </summary>
    private static WatchdogProcess Start(string template, int? upstreamPort)
    {
        // The source folder, not the build output's copy: .ci/test installs express there (npm ci).
        var folder = Path.Combine(DocumentationSpecs.RepositoryRoot(), "watchdog.tests", "Fixtures", "templates", template);
        if (template == "express" && !Directory.Exists(Path.Combine(folder, "node_modules", "express")))
        {
            throw new InvalidOperationException($"express is not installed in {folder}: run .ci/test (it runs npm ci there), or npm ci --prefix {folder}");
        }

        var env = DockerfileEnv.Read(Path.Combine(folder, "template.Dockerfile"));
        if (upstreamPort is { } port)
        {
            env["upstream_url"] = new UriBuilder(env["upstream_url"]) { Port = port }.Uri.ToString().TrimEnd('/');
        }

        env["port"] = "0";
        env["bind_address"] = "127.0.0.1";
        env["metrics_port"] = "0";
        env["TMPDIR"] = Directory.CreateTempSubdirectory("fwatchdog-tmp-").FullName;
        env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
        return WatchdogProcess.Start(env, workingDirectory: folder);
    }

    private static async Task WaitUntilHealthyAsync(HttpClient client, WatchdogProcess watchdog)
    {
        var healthy = await Processes.EventuallyAsync(
            async () => (await client.GetAsync(new Uri(watchdog.Url, "/_/health"))).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(30));
        healthy.Should().BeTrue($"the framework should start within 30 s; the watchdog printed:\n{watchdog.Output}");
    }

    private static bool IsListening(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
