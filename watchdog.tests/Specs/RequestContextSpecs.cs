namespace Fwatchdog.Tests.Specs;

public sealed class RequestContextSpecs : FastTier
{
    [Fact(Timeout = 30_000)]
    public async Task Child_sees_classic_Http_variables_with_every_value_of_repeated_headers()
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("print-env.sh");
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(watchdog.Url, "/orders/7?id=1&q=a%20b")) { Content = new StringContent("x") };
        request.Headers.Add("X-Tag", ["one", "two"]);
        request.Headers.Add("Method", "DELETE");
        request.Headers.Add("Query", "faked=1");
        request.Headers.Add("Proxy", "http://evil.example");
        request.Headers.Add("X-Odd.Name", "v");

        var env = await EnvAsync(watchdog, request);

        env["Http_Method"].Should().Be("PUT");
        env["Http_Path"].Should().Be("/orders/7");
        env["Http_Query"].Should().Be("id=1&q=a%20b");
        env["Http_X_Tag"].Should().Be("one, two");
        env["Http_X_Odd_name"].Should().Be("v");
        env["Http_Content_Length"].Should().Be("1");
        env["Http_Host"].Should().Be($"127.0.0.1:{watchdog.Url.Port}");
        env.Should().NotContainKey("Http_Proxy");
        env.Should().ContainKey("PATH", "the watchdog's own environment is inherited");
    }

    [Fact(Timeout = 30_000)]
    public async Task Child_starts_with_no_signal_ignored_or_blocked_though_the_runtime_ignores_sigpipe()
    {
        // The runtime ignores SIGPIPE, which exec would pass on: `yes | head -1` in a function would
        // end with an error instead of quietly. Signals 32 and 33 are glibc's own (NPTL sets them up in
        // every process it starts), so they are left out of the comparison.
        await using var watchdog = await TestWatchdog.StartAsync("grep -E ^Sig(Ign|Blk): /proc/self/status");
        using var client = new HttpClient();

        var lines = (await client.GetStringAsync(watchdog.Url)).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .ToDictionary(line => line.Split(':')[0], line => Convert.ToUInt64(line.Split(':')[1].Trim(), 16) & ~0x1_8000_0000UL);

        lines.Should().BeEquivalentTo(new Dictionary<string, ulong> { ["SigBlk"] = 0, ["SigIgn"] = 0 });
    }

    [Fact(Timeout = 30_000)]
    public async Task A_run_leads_its_own_process_group_in_the_watchdogs_session_unless_the_watchdog_has_a_terminal()
    {
        // In the watchdog's session the scheduler's autogroup is shared; with a
        // terminal, a session of its own keeps the function away from it.
        await using var watchdog = await TestWatchdog.StartAsync("cat /proc/self/stat");

        var run = Stat(await watchdog.Client.GetStringAsync(watchdog.Url));
        var own = Stat(await File.ReadAllTextAsync($"/proc/{Environment.ProcessId}/stat"));

        run.ProcessGroup.Should().Be(run.Pid, "the run leads its own process group, which a timeout stops as a whole");
        run.Session.Should().Be(HasTerminal() ? run.Pid : own.Session);
    }

    private static (int Pid, int ProcessGroup, int Session) Stat(string stat)
    {
        // pid (comm) state ppid pgrp session ...
        var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (int.Parse(stat[..stat.IndexOf(' ')], CultureInfo.InvariantCulture), int.Parse(rest[2], CultureInfo.InvariantCulture),
            int.Parse(rest[3], CultureInfo.InvariantCulture));
    }

    private static bool HasTerminal()
    {
        try
        {
            using var tty = File.OpenRead("/dev/tty");
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task A_header_cannot_fake_the_query_when_the_url_has_none()
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("print-env.sh");
        using var request = new HttpRequestMessage(HttpMethod.Get, watchdog.Url);
        request.Headers.Add("Query", "admin=true");
        request.Headers.Add("Path", "/admin");

        var env = await EnvAsync(watchdog, request);

        env.Should().NotContainKey("Http_Query");
        env["Http_Path"].Should().Be("/");
    }

    [Fact(Timeout = 30_000)]
    public async Task Chunked_request_reports_its_transfer_encoding()
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("print-env.sh");
        using var request = new HttpRequestMessage(HttpMethod.Post, watchdog.Url) { Content = new StreamContent(new MemoryStream("abc"u8.ToArray())) };
        request.Headers.TransferEncodingChunked = true;

        var env = await EnvAsync(watchdog, request);

        env["Http_Transfer_Encoding"].Should().Be("chunked");
        env["Http_Content_Length"].Should().Be("-1");
    }

    [Fact(Timeout = 30_000)]
    public async Task Child_is_told_its_deadline_when_exec_timeout_is_set()
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("print-env.sh", o => o with { ExecTimeout = TimeSpan.FromSeconds(10) });
        var before = DateTimeOffset.UtcNow;

        var env = await EnvAsync(watchdog, new HttpRequestMessage(HttpMethod.Get, watchdog.Url));

        var deadline = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(env["Exec_Deadline_Unix_Ms"], System.Globalization.CultureInfo.InvariantCulture));
        deadline.Should().BeCloseTo(before + TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5));
        DateTimeOffset.Parse(env["Exec_Deadline"], System.Globalization.CultureInfo.InvariantCulture).Should().BeCloseTo(deadline, TimeSpan.FromMilliseconds(1));
    }

    [Fact(Timeout = 30_000)]
    public async Task Without_cgi_headers_no_Http_variables_are_set()
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("print-env.sh", o => o with { CgiHeaders = false });

        var env = await EnvAsync(watchdog, new HttpRequestMessage(HttpMethod.Get, watchdog.Url));

        env.Keys.Should().NotContain(k => k.StartsWith("Http_", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30_000)]
    public async Task Call_id_is_kept_when_given_and_passed_to_the_child()
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("print-env.sh");
        using var request = new HttpRequestMessage(HttpMethod.Get, watchdog.Url);
        request.Headers.Add("X-Call-Id", "my-call-42");

        using var response = await watchdog.Client.SendAsync(request);

        response.Headers.GetValues("X-Call-Id").Should().Equal("my-call-42");
        (await response.Content.ReadAsStringAsync()).Should().Contain("Http_X_Call_Id=my-call-42");
    }

    [Theory(Timeout = 30_000)]
    [InlineData(null, "text/csv", "text/csv")]
    [InlineData(null, null, "text/plain")]
    [InlineData("application/json", "text/csv", "application/json")]
    public async Task Content_type_comes_from_the_setting_else_the_request_else_the_output(string? configured, string? requestType, string expected)
    {
        await using var watchdog = await TestWatchdog.StartAsync("cat", o => o with { ContentType = configured });
        var content = new ByteArrayContent("a,b"u8.ToArray());
        if (requestType is not null)
        {
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(requestType);
        }

        using var response = await watchdog.Client.PostAsync(watchdog.Url, content);

        response.Content.Headers.ContentType!.MediaType.Should().Be(expected);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("<!DOCTYPE html><html><body><h1>Hi</h1></body></html>", "text/html; charset=utf-8")]
    [InlineData("hello, café\n", "text/plain; charset=utf-8")]
    [InlineData("{\"ok\": true}", "text/plain; charset=utf-8")]
    [InlineData("\u0001\u0002binary", "application/octet-stream")]
    public async Task Without_any_content_type_the_output_is_sniffed_as_the_classic_watchdog_does(string output, string expected)
    {
        await using var watchdog = await TestWatchdog.StartAsync("cat");

        using var response = await watchdog.Client.PostAsync(watchdog.Url, new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(output)));

        response.Content.Headers.ContentType!.ToString().Should().Be(expected);
    }

    [Fact(Timeout = 30_000)]
    public async Task An_empty_body_gets_no_sniffed_content_type()
    {
        await using var watchdog = await TestWatchdog.StartAsync("true");

        using var response = await watchdog.Client.GetAsync(watchdog.Url);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType.Should().BeNull();
    }

    [Fact(Timeout = 30_000)]
    public async Task Output_past_the_buffer_is_sniffed_from_its_first_bytes()
    {
        await using var watchdog = await TestWatchdog.StartAsync("sh -c 'printf \"<html>\"; head -c 200000 /dev/zero | tr \"\\\\0\" x'",
            o => o with { ResponseBufferBytes = 0 });

        using var response = await watchdog.Client.GetAsync(watchdog.Url);

        response.Content.Headers.ContentType!.ToString().Should().Be("text/html; charset=utf-8");
    }

    [Fact(Timeout = 30_000)]
    public async Task Marshal_request_wraps_headers_and_base64_body_in_json()
    {
        await using var watchdog = await TestWatchdog.StartAsync("cat", o => o with { MarshalRequest = true });
        var body = Enumerable.Range(0, 200_001).Select(i => (byte)i).ToArray();
        using var request = new HttpRequestMessage(HttpMethod.Post, watchdog.Url) { Content = new ByteArrayContent(body) };
        request.Headers.Add("x-custom", "yes");

        using var response = await watchdog.Client.SendAsync(request);
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        json.RootElement.GetProperty("header").GetProperty("X-Custom")[0].GetString().Should().Be("yes");
        json.RootElement.GetProperty("header").TryGetProperty("Host", out _).Should().BeFalse();
        Convert.FromBase64String(json.RootElement.GetProperty("body").GetProperty("raw").GetString()!).Should().Equal(body);
    }

    private static async Task<Dictionary<string, string>> EnvAsync(TestWatchdog watchdog, HttpRequestMessage request)
    {
        using var response = await watchdog.Client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var text = await response.Content.ReadAsStringAsync();
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.Contains('=', StringComparison.Ordinal))
            .Select(line => line.Split('=', 2))
            .GroupBy(parts => parts[0])
            .ToDictionary(group => group.Key, group => group.Last()[1]);
    }
}
