using System.IO.Compression;
using System.Security.Cryptography;

namespace Fwatchdog.Tests.Specs;

/// <summary>
/// Every caller gets its answer. Most HTTP/1.1 clients (Python's http.client and requests, many
/// SDKs) send the whole body before they read the response; a function that writes while it reads
/// (cat, gzip, a streaming parser) then fills the socket buffers both ways. The watchdog spools
/// what the caller does not read yet, keeps feeding the function, and sends the output once the
/// caller reads; a full-duplex caller (curl, the gateway) still gets it streamed.
/// </summary>
public sealed class HalfDuplexCallerSpecs
{
    private const long MiB = 1 << 20;

    [Theory(Timeout = 120_000)]
    [InlineData(10 * MiB, false)]
    [InlineData(10 * MiB, true)]
    [InlineData(100 * MiB, false)]
    [InlineData(100 * MiB, true)]
    public async Task Cat_answers_every_byte_whether_the_caller_reads_while_sending_or_after(long size, bool fullDuplex)
    {
        await using var watchdog = await TestWatchdog.StartAsync("cat");

        var (status, received) = await Callers.EchoAsync(watchdog.Url, "/", size, fullDuplex);

        status.Should().Be(200);
        received.Should().Be(size);
    }

    [Theory(Timeout = 120_000)]
    [InlineData(10 * MiB)]
    [InlineData(100 * MiB)]
    public async Task Python_http_client_gets_the_whole_answer_of_cat(long size)
    {
        await using var watchdog = await TestWatchdog.StartAsync("cat");

        var answer = await PythonPostAsync(new Uri(watchdog.Url, "/"), size);

        answer.Should().Be($"200 {size} {Callers.Sha256(new PatternStream(size))}");
    }

    [Theory(Timeout = 120_000)]
    [InlineData(10 * MiB, false)]
    [InlineData(100 * MiB, false)]
    [InlineData(100 * MiB, true)]
    public async Task A_gzip_like_function_that_writes_while_it_reads_answers_a_caller_that_sends_first(long size, bool fullDuplex)
    {
        // Noise does not compress, so the output is as large as the input and outgrows the socket buffers.
        await using var watchdog = await TestWatchdog.StartAsync("gzip -1 -c");
        var noise = new byte[size];
        new Random(19).NextBytes(noise);
        using var unzipped = new MemoryStream();
        using var zipped = new MemoryStream();

        var (status, _) = fullDuplex
            ? await Callers.SendWhileReadingAsync(watchdog.Url, "/", new MemoryStream(noise), async bytes => await zipped.WriteAsync(bytes))
            : await Callers.SendThenReadAsync(watchdog.Url, "/", new MemoryStream(noise), async bytes => await zipped.WriteAsync(bytes));
        zipped.Position = 0;
        await using (var gunzip = new GZipStream(zipped, CompressionMode.Decompress, leaveOpen: true))
        {
            await gunzip.CopyToAsync(unzipped);
        }

        status.Should().Be(200);
        zipped.Length.Should().BeGreaterThan(size / 2, "the answer must outgrow the socket buffers for this spec to mean anything");
        SHA256.HashData(unzipped.ToArray()).Should().Equal(SHA256.HashData(noise));
    }

    [Theory(Timeout = 120_000)]
    [InlineData(10 * MiB)]
    [InlineData(100 * MiB)]
    public async Task A_function_that_exits_without_reading_answers_a_caller_that_sends_first(long size)
    {
        await using var watchdog = await TestWatchdog.StartAsync("echo hello");

        var answer = await PythonPostAsync(new Uri(watchdog.Url, "/"), size);

        answer.Should().Be($"200 6 {Callers.Sha256(new MemoryStream("hello\n"u8.ToArray()))}");
    }

    [Theory(Timeout = 120_000)]
    [InlineData(10 * MiB)]
    [InlineData(100 * MiB)]
    public async Task A_mode_http_server_that_answers_before_reading_the_body_reaches_a_caller_that_sends_first(long size)
    {
        using var upstream = new HttpModeUpstream();
        upstream.Touch("gate");
        await using var watchdog = await HttpModeSpecs.ReadyAsync(upstream);

        // The express pattern: 401 at once, the body read and dropped afterwards.
        for (var call = 0; call < 3; call++)
        {
            var answer = await PythonPostAsync(new Uri(watchdog.Url, "/early"), size);

            answer.Should().Be($"401 22 {Callers.Sha256(new MemoryStream("early: no credentials\n"u8.ToArray()))}", $"call {call} gets the whole early answer");
        }
    }

    [Theory(Timeout = 180_000)]
    [InlineData("cat", 10 * MiB)]
    [InlineData("cat", 100 * MiB)]
    [InlineData("echo", 100 * MiB)]
    [InlineData("early", 100 * MiB)]
    public async Task Through_the_gateway_a_caller_that_sends_first_gets_the_answer(string function, long size)
    {
        using var upstream = new HttpModeUpstream();
        upstream.Touch("gate");
        await using var httpMode = await HttpModeSpecs.ReadyAsync(upstream);
        await using var cat = await TestWatchdog.StartAsync("cat");
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("cat", cat.Url), ("http", httpMode.Url)));
        var path = function == "cat" ? "/function/cat" : $"/function/http/{function}";

        var answer = await PythonPostAsync(new Uri(gateway.Url, path), size);

        answer.Should().Be(function == "early"
            ? $"401 22 {Callers.Sha256(new MemoryStream("early: no credentials\n"u8.ToArray()))}"
            : $"200 {size} {Callers.Sha256(new PatternStream(size))}");
    }

    [Fact(Timeout = 300_000)]
    public async Task One_GiB_through_cat_keeps_the_watchdogs_memory_flat_for_both_kinds_of_caller_and_leaves_no_spool_file()
    {
        const long size = 1L << 30;
        using var tmp = new TempFolder();

        // The watchdog as its own process, measured as a container would measure it. The gen0 size
        // stands in for a CPU with a 256 MiB cache: the GC sized its budget from that before it had a ceiling.
        await using var watchdog = await StartCatAsync(tmp,
            ("write_debug", "true"), ("read_timeout", "0"), ("write_timeout", "0"), ("DOTNET_GCgen0size", "0x10000000"));
        (await Callers.EchoAsync(watchdog.Url, "/", 64 * MiB, fullDuplex: false)).Should().Be((200, 64 * MiB), "the warm-up call");

        foreach (var fullDuplex in new[] { false, true })
        {
            var memory = ProcessMemory.Start(watchdog.Pid);
            var clock = Stopwatch.StartNew();

            var (status, received) = await Callers.EchoAsync(watchdog.Url, "/", size, fullDuplex);

            status.Should().Be(200);
            received.Should().Be(size);
            memory.PeakGrowth.Should().BeLessThan(32 * MiB, $"the watchdog's memory must not grow with the body ({(fullDuplex ? "full" : "half")} duplex, {clock.Elapsed.TotalSeconds:F1} s)");
        }

        watchdog.Output.Should().MatchRegex(@"up to \d{9,} bytes of output waited", "the caller that sent first had its answer spooled");
        Directory.EnumerateFiles(tmp.Path, "fwatchdog-spool-*").Should().BeEmpty("the spool file is unlinked as soon as it is open");
        ProcessMemory.OpenFiles(watchdog.Pid, "fwatchdog-spool-").Should().BeEmpty("the spool file is closed (and its disk freed) when the call ends");
    }

    [Fact(Timeout = 60_000)]
    public async Task Past_max_spool_bytes_the_call_is_stopped_at_once_instead_of_hanging()
    {
        using var tmp = new TempFolder();
        await using var watchdog = await StartCatAsync(tmp, ("max_spool_bytes", "4MiB"), ("write_timeout", "50s"));
        var clock = Stopwatch.StartNew();

        var answer = await PythonPostAsync(new Uri(watchdog.Url, "/"), 64 * MiB);

        // The status went out with the first bytes, before the spool filled: the only honest
        // signal left is a broken connection, at once, and the log says why.
        answer.Should().StartWith("error ");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30), "the call must not wait for write_timeout");
        (await Processes.EventuallyAsync(() => watchdog.Output.Contains("reason=spool-full", StringComparison.Ordinal), TimeSpan.FromSeconds(20))).Should().BeTrue();
        watchdog.Output.Should().Contain("more than max_spool_bytes (4194304 bytes)");
        ProcessMemory.OpenFiles(watchdog.Pid, "fwatchdog-spool-").Should().BeEmpty();
        (await Callers.EchoAsync(watchdog.Url, "/", 3 * MiB, fullDuplex: false)).Should().Be((200, 3 * MiB), "a call that fits is still served");
    }

    /// <summary>Runs Fixtures/send-then-read.py: "STATUS LENGTH SHA256" of the answer, or "error ...".</summary>
    private static async Task<string> PythonPostAsync(Uri url, long size)
    {
        var (exit, output) = await Commands.CaptureAsync("python3", [TestWatchdog.Fixture("send-then-read.py"), url.ToString(), size.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(110));
        exit.Should().Be(0, output);
        return output.Trim();
    }

    /// <summary>fwatchdog as its own process running <c>cat</c>, its spool file in <paramref name="tmp"/>.</summary>
    private static async Task<WatchdogProcess> StartCatAsync(TempFolder tmp, params (string Name, string Value)[] settings)
    {
        var environment = new Dictionary<string, string>
        {
            ["fprocess"] = "cat",
            ["port"] = "0",
            ["metrics_port"] = "0",
            ["suppress_lock"] = "true",
            ["TMPDIR"] = tmp.Path,
        };
        foreach (var (name, value) in settings)
        {
            environment[name] = value;
        }

        var watchdog = WatchdogProcess.Start(environment);
        await watchdog.WaitUntilListeningAsync();
        return watchdog;
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("spool-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
