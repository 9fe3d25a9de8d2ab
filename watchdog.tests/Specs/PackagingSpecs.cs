using System.Text.RegularExpressions;

namespace Fwatchdog.Tests.Specs;

/// <summary>
/// The NativeAOT binary, the images built from deploy/images/Dockerfile, and the Dockerfile.template
/// users copy into function images (.ci/containers builds and runs them all).
/// </summary>
public sealed partial class PackagingSpecs
{
    private static string Root => DocumentationSpecs.RepositoryRoot();

    private static string Template => Path.Combine(Root, "Dockerfile.template");

    private static string ImagesDockerfile => Path.Combine(Root, "deploy", "images", "Dockerfile");

    public static TheoryData<string> FunctionDockerfiles()
    {
        var data = new TheoryData<string> { "Dockerfile.template" };
        foreach (var dir in Directory.EnumerateDirectories(Path.Combine(Root, "samples")).Order())
        {
            data.Add(Path.GetRelativePath(Root, Path.Combine(dir, "Dockerfile")));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(FunctionDockerfiles))]
    public void Function_dockerfile_takes_the_watchdog_from_its_image_the_openfaas_way(string dockerfile)
    {
        var lines = Instructions(Path.Combine(Root, dockerfile));
        var froms = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();

        lines.Should().Contain("ARG WATCHDOG_IMAGE=ghcr.io/fwatchdog/watchdog:latest");
        froms.Should().HaveCount(2);
        froms[0].Should().Be("FROM ${WATCHDOG_IMAGE} AS watchdog");
        froms[1].Should().NotContain("dotnet/sdk", "a function image needs no fwatchdog checkout and no SDK");
        lines.Should().Contain("COPY --from=watchdog /fwatchdog /usr/bin/fwatchdog");
        lines.Should().Contain("COPY . /home/app/", "the function's files come from its own build context");
        lines.Should().NotContain(l => l.StartsWith("RUN ", StringComparison.Ordinal) && l.Contains("dotnet", StringComparison.Ordinal));
        new[] { "USER root", "USER 0" }.Should().NotContain(lines.Single(l => l.StartsWith("USER ", StringComparison.Ordinal)));
        lines.FindIndex(l => l.StartsWith("USER ", StringComparison.Ordinal)).Should().BeGreaterThan(lines.FindLastIndex(l => l.StartsWith("RUN ", StringComparison.Ordinal)));
        DockerfileEnv.Read(Path.Combine(Root, dockerfile)).Keys.Should().Contain(["fprocess", "read_timeout", "write_timeout", "exec_timeout"]);
        lines.Should().Contain("EXPOSE 8080");
        lines.Should().Contain("HEALTHCHECK --interval=5s --timeout=3s CMD [\"fwatchdog\", \"--run-healthcheck\"]");
        lines[^1].Should().Be("CMD [\"fwatchdog\"]");
    }

    [Fact]
    public void Dockerfile_template_has_no_text_placeholders_and_declares_every_variable_it_uses()
    {
        var text = File.ReadAllText(Template);
        var declared = ArgLine().Matches(text).Select(m => m.Groups[1].Value).ToHashSet();

        text.Should().NotContainAny("{{", "<your", "TODO");
        UsedVariable().Matches(text).Select(m => m.Groups[1].Value).Should().OnlyContain(name => declared.Contains(name));
    }

    [Fact]
    public void Watchdog_image_is_only_the_binary_and_the_gateway_image_is_non_root_with_a_data_volume_and_a_healthcheck()
    {
        var lines = Instructions(ImagesDockerfile);
        var watchdog = Stage(lines, "watchdog");
        var gateway = Stage(lines, "gateway");

        // The watchdog image gets the watchdog-only build, the gateway image the full one.
        Stage(lines, "build-watchdog").Should().ContainSingle(l => l.StartsWith("RUN ", StringComparison.Ordinal))
            .Which.Should().Contain("deploy/publish --watchdog-only \"$rid\" /out");
        Stage(lines, "build-gateway").Should().ContainSingle(l => l.StartsWith("RUN ", StringComparison.Ordinal))
            .Which.Should().Contain("deploy/publish \"$rid\" /out");
        watchdog.Should().Equal("FROM scratch AS watchdog", "COPY --from=build-watchdog /out/fwatchdog /fwatchdog");
        gateway.Should().Contain("COPY --from=build-gateway /out/fwatchdog /usr/bin/fwatchdog");
        gateway.Should().Contain("USER app");
        gateway.Should().Contain("ENV data_dir=\"/data\"");
        gateway.Should().Contain("VOLUME [\"/data\"]");
        gateway.Should().Contain(l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal) && l.Contains("http://127.0.0.1:8080/healthz", StringComparison.Ordinal));
        gateway[^1].Should().Be("ENTRYPOINT [\"fwatchdog\", \"gateway\"]");
    }

    [Fact]
    public void Every_build_context_keeps_build_outputs_and_data_out()
    {
        var contexts = new[] { Root }.Concat(Directory.EnumerateDirectories(Path.Combine(Root, "samples")));

        foreach (var context in contexts)
        {
            var ignore = Path.Combine(context, ".dockerignore");
            File.Exists(ignore).Should().BeTrue($"{context} is a build context");
            File.ReadAllLines(ignore).Should().Contain(["**/bin/", "**/obj/", "**/fwatchdog-data/", "**/*.db"], ignore);
        }
    }

    [Fact]
    public void Every_docker_command_in_the_deploy_docs_is_one_that_ci_runs()
    {
        var docs = File.ReadAllText(Path.Combine(Root, "docs", "deploy.md"));
        var ci = File.ReadAllLines(Path.Combine(Root, ".ci", "containers"));
        var commands = ShellBlock().Matches(docs).SelectMany(m => m.Groups[1].Value.Split('\n'))
            .Select(l => l.Trim()).Where(l => l.StartsWith("docker ", StringComparison.Ordinal)).ToList();

        commands.Should().HaveCountGreaterThan(8);
        commands.Where(command => !ci.Any(line => RunsCommand(line, command)))
            .Should().BeEmpty("docs/deploy.md shows these commands, so .ci/containers must run them as written");
    }

    /// <summary>The CI line runs the command as written, maybe with its output redirected or piped.</summary>
    private static bool RunsCommand(string line, string command)
    {
        var at = line.IndexOf(command, StringComparison.Ordinal);
        if (at < 0)
        {
            return false;
        }

        var rest = line[(at + command.Length)..];
        return rest.Length == 0 || rest[0] == ')' || new[] { " >", " 2>", " |", " &" }.Any(tail => rest.StartsWith(tail, StringComparison.Ordinal));
    }

    [Fact(Timeout = 900_000)]
    public async Task Published_aot_binaries_serve_like_the_images_clean_environment_non_root()
    {
        var output = Directory.CreateTempSubdirectory("fwatchdog-aot-").FullName;
        var watchdogOnly = Path.Combine(output, "watchdog-only");
        try
        {
            var publish = await Commands.CaptureAsync("bash", [Path.Combine(Root, "deploy", "publish"), "linux-x64", output], Timeout.InfiniteTimeSpan);
            publish.ExitCode.Should().Be(0, publish.Output);
            publish.Output.Should().NotContainAny(["warning IL", "warning AOT"], "the AOT build must be free of trim/AOT warnings");
            File.Exists(Path.Combine(output, "libe_sqlite3.so")).Should().BeFalse("SQLite is linked into the binary (one executable per job)");
            var publishWatchdog = await Commands.CaptureAsync("bash", [Path.Combine(Root, "deploy", "publish"), "--watchdog-only", "linux-x64", watchdogOnly], Timeout.InfiniteTimeSpan);
            publishWatchdog.ExitCode.Should().Be(0, publishWatchdog.Output);
            publishWatchdog.Output.Should().NotContainAny(["warning IL", "warning AOT"], "the watchdog-only AOT build must be free of trim/AOT warnings");
            ElfLinking.Read(Path.Combine(watchdogOnly, "fwatchdog")).Should().Be(new ElfLinking(null, 0),
                "function images may have no glibc (Alpine's musl, scratch) or an older one (Debian 11): the watchdog-only binary is static");
            ElfLinking.Read(Path.Combine(output, "fwatchdog")).Interpreter.Should().NotBeNull("the gateway binary stays dynamic: TLS loads OpenSSL at run time");
            File.SetUnixFileMode(output, (UnixFileMode)Convert.ToInt32("755", 8));
            File.SetUnixFileMode(watchdogOnly, (UnixFileMode)Convert.ToInt32("755", 8));
            var gatewayBinary = Path.Combine(output, "fwatchdog");
            var binary = Path.Combine(watchdogOnly, "fwatchdog");
            new FileInfo(binary).Length.Should().BeLessThan(new FileInfo(gatewayBinary).Length * 3 / 4, "the watchdog-only build leaves the gateway, NATS and SQLite out");
            var noGateway = await Commands.CaptureAsync(binary, ["gateway"], Timeout.InfiniteTimeSpan);
            noGateway.ExitCode.Should().Be(2);
            noGateway.Output.Should().Contain("this is the watchdog-only build (for function images), which has no gateway");
            var consoleMarker = "<title>fwatchdog console</title>"u8.ToArray();
            (await File.ReadAllBytesAsync(binary)).AsSpan().IndexOf(consoleMarker).Should().Be(-1, "the watchdog-only build carries no console");
            (await File.ReadAllBytesAsync(gatewayBinary)).AsSpan().IndexOf(consoleMarker).Should().BePositive("the gateway binary carries its console");

            var env = DockerfileEnv.Read(Template);
            env["port"] = "0";
            env["metrics_port"] = "0";
            env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
            string[] nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
            await using var watchdog = WatchdogProcess.Start(env, wrapper: nobody, workingDirectory: "/tmp", binary: binary, cleanEnvironment: true);
            await watchdog.WaitUntilListeningAsync();
            using var client = new HttpClient();

            using var response = await client.PostAsync(watchdog.Url, new StringContent("from the image"));
            var healthcheck = await Commands.CaptureAsync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "env", "-i", $"port={watchdog.Url.Port.ToString(CultureInfo.InvariantCulture)}", binary, "--run-healthcheck"], Timeout.InfiniteTimeSpan);

            (await response.Content.ReadAsStringAsync()).Should().Be("from the image");
            healthcheck.ExitCode.Should().Be(0, healthcheck.Output);

            // Function images carry no OpenSSL: serving a call must not load it (call ids from
            // RandomNumberGenerator once did, and the watchdog crashed on its first call there).
            (await File.ReadAllTextAsync($"/proc/{watchdog.Pid}/maps")).Should().NotContainAny(["libssl", "libcrypto"]);
            watchdog.Output.Should().Contain("exec_timeout=10s");
            (await QueueOneCallThroughTheGatewayAsync(gatewayBinary, watchdog.Url, output)).Should().Be("queued");
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    /// <summary>The published binary as a gateway with its embedded SQLite queue, alone in its folder.</summary>
    private static async Task<string> QueueOneCallThroughTheGatewayAsync(string binary, Uri function, string folder)
    {
        var stack = Path.Combine(folder, "stack.json");
        var upstream = function.ToString().TrimEnd('/');
        await File.WriteAllTextAsync(stack, $$"""{"functions": {"echo": {"upstream": "{{upstream}}" } } }""");
        var env = new Dictionary<string, string>
        {
            ["config"] = stack,
            ["port"] = "0",
            ["bind_address"] = "127.0.0.1",
            ["metrics_port"] = "0",
            ["data_dir"] = Path.Combine(folder, "data"),
        };
        await using var gateway = WatchdogProcess.Start(env, args: ["gateway"], workingDirectory: folder, binary: binary, cleanEnvironment: true);
        await gateway.WaitUntilListeningAsync();
        using var client = new HttpClient { BaseAddress = gateway.Url, Timeout = TimeSpan.FromSeconds(10) };
        using var accepted = await client.PostAsync("/async-function/echo", new StringContent("queued"));
        accepted.StatusCode.Should().Be(HttpStatusCode.Accepted, await accepted.Content.ReadAsStringAsync());
        var callId = TestGateway.Remember(accepted);
        using (var console = await client.GetAsync("/ui/main.js"))
        {
            console.StatusCode.Should().Be(HttpStatusCode.OK, "the console's files are embedded resources NativeAOT keeps");
        }

        string? answer = null;
        (await Processes.EventuallyAsync(async () =>
        {
            using var result = await client.GetAsync(TestGateway.StatusOf(callId) + "/result");
            answer = result.IsSuccessStatusCode ? await result.Content.ReadAsStringAsync() : null;
            return answer is not null;
        }, TimeSpan.FromSeconds(60))).Should().BeTrue($"the gateway runs the async call; it printed:\n{gateway.Output}");
        return answer ?? "";
    }

    /// <summary>A Dockerfile's instructions, one per item: comments dropped, continued lines joined.</summary>
    private static List<string> Instructions(string dockerfile)
    {
        var instructions = new List<string>();
        var current = "";
        foreach (var line in File.ReadAllLines(dockerfile).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            current += current.Length == 0 ? line : " " + line.Trim();
            if (current.EndsWith('\\'))
            {
                current = current[..^1].TrimEnd();
                continue;
            }

            instructions.Add(current);
            current = "";
        }

        return instructions;
    }

    private static List<string> Stage(List<string> lines, string name)
    {
        var start = lines.FindIndex(l => l.StartsWith("FROM ", StringComparison.Ordinal) && l.EndsWith(" AS " + name, StringComparison.Ordinal));
        start.Should().BeGreaterThanOrEqualTo(0, $"a stage named {name}");
        var end = lines.FindIndex(start + 1, l => l.StartsWith("FROM ", StringComparison.Ordinal));
        return lines[start..(end < 0 ? lines.Count : end)];
    }

    [GeneratedRegex("```sh\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex ShellBlock();

    [GeneratedRegex(@"^ARG ([A-Z_]+)", RegexOptions.Multiline)]
    private static partial Regex ArgLine();

    [GeneratedRegex(@"\$\{?([A-Z_]+)\}?")]
    private static partial Regex UsedVariable();
}
