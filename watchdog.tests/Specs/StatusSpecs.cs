namespace Fwatchdog.Tests.Specs;

public sealed class StatusSpecs : FastTier
{
    [Fact(Timeout = 30_000)]
    public async Task Non_zero_exit_returns_500_naming_the_exit_code_without_leaking_stderr()
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("exit-code.sh");

        using var response = await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/?3"));

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        response.Headers.GetValues("X-Watchdog-Reason").Should().Equal("exit-code");
        var body = await response.Content.ReadAsStringAsync();
        body.Should().Contain("exited with code 3");
        body.Should().NotContain("err line");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_failed_run_returns_its_output_in_the_500_body_as_the_classic_watchdog_does()
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("exit-code.sh");

        using var response = await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/?3"));

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await response.Content.ReadAsStringAsync()).Should().Be("the function process exited with code 3\nout line\n");
    }

    [Fact(Timeout = 30_000)]
    public async Task Write_debug_adds_the_stderr_tail_to_500_bodies()
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("exit-code.sh", o => o with { WriteDebug = true });

        var body = await (await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/?4"))).Content.ReadAsStringAsync();

        body.Should().Contain("exited with code 4").And.Contain("err line one\nerr line two");
    }

    [Fact(Timeout = 30_000)]
    public async Task Stderr_stays_out_of_the_body_by_default_and_joins_it_with_combine_output()
    {
        await using var separate = await TestWatchdog.StartScriptAsync("exit-code.sh");
        await using var combined = await TestWatchdog.StartScriptAsync("exit-code.sh", o => o with { CombineOutput = true });

        (await separate.Client.GetStringAsync(separate.Url)).Should().Be("out line\n");
        var both = await combined.Client.GetStringAsync(combined.Url);
        both.Should().Contain("out line\n").And.Contain("err line one\n").And.Contain("err line two\n");
    }

    [Fact(Timeout = 30_000)]
    public async Task Killed_by_signal_is_reported_as_such()
    {
        await using var watchdog = await TestWatchdog.StartAsync("sh -c 'kill -9 $$'");

        using var response = await watchdog.Client.GetAsync(watchdog.Url);

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await response.Content.ReadAsStringAsync()).Should().Contain("signal 9 (SIGKILL)");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_failure_after_streaming_started_breaks_the_response_instead_of_a_clean_200()
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("stream-then-fail.sh");
        await using var client = await RawHttpClient.ConnectAsync(watchdog.Url);
        await client.SendHeadAsync("GET", "/", 0);

        var (status, headers) = await client.ReadHeadAsync();
        status.Should().Be(200, "1 MiB passed the 64 KiB buffer, so the status went out before the exit");
        var read = () => client.ReadBodyAsync(headers, _ => Task.CompletedTask);

        await read.Should().ThrowAsync<IOException>("the chunked body must not end cleanly");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_short_failure_is_never_sent_as_200_even_with_output()
    {
        await using var watchdog = await TestWatchdog.StartAsync("sh -c 'head -c 60000 /dev/zero; exit 2'");

        using var response = await watchdog.Client.GetAsync(watchdog.Url);

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
    }

    [Fact(Timeout = 30_000)]
    public async Task Cgi_response_lets_a_script_set_status_and_headers()
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("cgi.sh", o => o with { CgiResponse = true });

        using var response = await watchdog.Client.GetAsync(watchdog.Url);

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        response.Headers.GetValues("X-Custom").Should().Equal("yes");
        (await response.Content.ReadAsStringAsync()).Should().Be("{\"created\":true}");
    }

    [Fact(Timeout = 30_000)]
    public async Task Cgi_response_treats_output_without_a_header_block_as_body()
    {
        await using var watchdog = await TestWatchdog.StartAsync("echo plain text", o => o with { CgiResponse = true });

        (await watchdog.Client.GetStringAsync(watchdog.Url)).Should().Be("plain text\n");
    }

    [Fact(Timeout = 30_000)]
    public async Task Cgi_response_with_a_bad_status_is_a_clear_500()
    {
        await using var watchdog = await TestWatchdog.StartAsync("printf 'Status: great\\n\\nbody'", o => o with { CgiResponse = true });

        using var response = await watchdog.Client.GetAsync(watchdog.Url);

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        response.Headers.GetValues("X-Watchdog-Reason").Should().Equal("bad-cgi-response");
        (await response.Content.ReadAsStringAsync()).Should().Contain("Status \"great\" is not a status code");
    }

    [Theory(Timeout = 30_000)]
    [InlineData("removed", "No such file or directory")]
    [InlineData("made non-executable", "Permission denied")]
    public async Task A_binary_removed_or_made_non_executable_after_the_start_is_a_clear_500(string change, string expected)
    {
        // A program that cannot run at start stops the start (WatchdogTrustSpecs); one that goes away later fails the call.
        var program = Path.Combine(Directory.CreateTempSubdirectory("status-").FullName, "fn.sh");
        await File.WriteAllTextAsync(program, "#!/bin/sh\necho ran\n");
        File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await using var watchdog = await TestWatchdog.StartAsync(program);
        if (change == "removed")
        {
            File.Delete(program);
        }
        else
        {
            File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        using var response = await watchdog.Client.PostAsync(watchdog.Url, new StringContent("x"));

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        response.Headers.GetValues("X-Watchdog-Reason").Should().Equal("start-failed");
        (await response.Content.ReadAsStringAsync()).Should().Contain(program).And.Contain(expected);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("HEAD")]
    [InlineData("OPTIONS")]
    [InlineData("TRACE")]
    [InlineData("PURGE")]
    public async Task Other_methods_get_405_with_Allow(string method)
    {
        await using var watchdog = await TestWatchdog.StartAsync("cat");

        using var response = await watchdog.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), watchdog.Url));

        response.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        response.Content.Headers.Allow.Should().BeEquivalentTo("GET", "POST", "PUT", "PATCH", "DELETE");
    }

    [Theory(Timeout = 30_000)]
    [InlineData("GET")]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public async Task Function_methods_run_the_process(string method)
    {
        await using var watchdog = await TestWatchdog.StartAsync("sh -c 'echo $Http_Method'");

        using var response = await watchdog.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), watchdog.Url));

        (await response.Content.ReadAsStringAsync()).Should().Be(method + "\n");
    }
}
