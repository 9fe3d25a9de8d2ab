using System.Security.Cryptography;

namespace Fwatchdog.Tests.Specs;

public sealed class StreamingSpecs
{
    [Fact(Timeout = 30_000)]
    public async Task Request_body_goes_to_stdin_and_stdout_comes_back_with_200()
    {
        await using var watchdog = await TestWatchdog.StartAsync("wc -w");

        using var response = await watchdog.Client.PostAsync(watchdog.Url, new StringContent("one two three"));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Trim().Should().Be("3");
        response.Headers.GetValues("X-Duration-Seconds").Single().Should().MatchRegex(@"^\d+\.\d{6}$");
        response.Headers.GetValues("X-Call-Id").Single().Should().NotBeNullOrWhiteSpace();
    }

    [Fact(Timeout = 30_000)]
    public async Task Binary_bodies_survive_byte_for_byte()
    {
        await using var watchdog = await TestWatchdog.StartAsync("cat");
        var body = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);

        using var response = await watchdog.Client.PostAsync(watchdog.Url, new ByteArrayContent(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsByteArrayAsync()).Should().Equal(body);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_process_that_writes_before_reading_its_input_does_not_deadlock()
    {
        await using var watchdog = await TestWatchdog.StartScriptAsync("write-before-read.sh");
        var body = new byte[8 * 1024 * 1024];

        using var response = await watchdog.Client.PostAsync(watchdog.Url, new ByteArrayContent(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var text = await response.Content.ReadAsStringAsync();
        text.Should().StartWith(new string('x', 100));
        text.TrimEnd().Should().EndWith("8388608");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_process_that_never_reads_stdin_still_answers()
    {
        await using var watchdog = await TestWatchdog.StartAsync("echo hello");

        using var response = await watchdog.Client.PostAsync(watchdog.Url, new ByteArrayContent(new byte[16 * 1024 * 1024]));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("hello\n");
    }

    [Fact(Timeout = 120_000)]
    public async Task One_GiB_through_cat_streams_in_constant_memory()
    {
        // No timeouts: this spec is about memory, and this 2-core machine's speed is not in question here.
        await using var watchdog = await TestWatchdog.StartAsync("cat", o => o with { ReadTimeout = TimeSpan.Zero, WriteTimeout = TimeSpan.Zero });
        const long size = 1L << 30;
        using var heap = HeapPeak.Start();

        // HttpClient will not read the response before it has sent the whole request, which
        // deadlocks against any streaming server: a raw client sends and receives at once.
        await using var client = await RawHttpClient.ConnectAsync(watchdog.Url);
        await client.SendHeadAsync("POST", "/", size);
        var sending = new PatternStream(size).CopyToAsync(client.Stream, 256 * 1024);
        var (status, headers) = await client.ReadHeadAsync();
        status.Should().Be(200);
        headers.Should().NotContainKey("Content-Length", "a body past the buffer threshold is streamed, not buffered");
        using var received = new PatternStream.Verifier();
        await client.ReadBodyAsync(headers, received.WriteAsync);
        await sending;
        var growth = await heap.StopAsync();

        received.Length.Should().Be(size);
        growth.Should().BeLessThan(64L * 1024 * 1024, "memory must not grow with the body size");
    }

    [Fact(Timeout = 30_000)]
    public async Task Get_requests_run_the_function_with_an_empty_stdin()
    {
        await using var watchdog = await TestWatchdog.StartAsync("wc -c");

        (await watchdog.Client.GetStringAsync(watchdog.Url)).Trim().Should().Be("0");
    }
}
