namespace Fwatchdog.Tests.Specs;

/// <summary>
/// Every sample runs through the real watchdog with the settings of its own Dockerfile, and the
/// curl command in its README must print the README's expected output, so samples never rot.
/// </summary>
public sealed class SampleSpecs
{
    public static IEnumerable<string> SampleNames(string root) =>
        new DirectoryInfo(Path.Combine(root, "samples")).EnumerateDirectories().Select(dir => dir.Name).Order(StringComparer.Ordinal);

    public static TheoryData<string> Samples() => new(SampleNames(DocumentationSpecs.RepositoryRoot()));

    [Fact]
    public void There_are_at_least_the_seven_documented_samples() =>
        Directory.EnumerateDirectories(Path.Combine(DocumentationSpecs.RepositoryRoot(), "samples")).Select(Path.GetFileName).Should().Contain(["echo", "word-count", "env-hello", "python-hello", "slow", "status", "gzip"]);

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(Samples))]
    public async Task Sample_answers_what_its_readme_documents(string sample)
    {
        var dir = Path.Combine(DocumentationSpecs.RepositoryRoot(), "samples", sample);
        var root = DocumentationSpecs.RepositoryRoot();
        var call = DocBlocks.Find(root, $"samples/{sample}/README.md", DocBlockMarker.Run, "call");
        var expected = DocBlocks.Find(root, $"samples/{sample}/README.md", DocBlockMarker.Output, "call");
        var env = DockerfileEnv.Read(Path.Combine(dir, "Dockerfile"));
        File.Exists(Path.Combine(dir, "Dockerfile")).Should().BeTrue();
        env.Should().ContainKey("fprocess");
        env["port"] = "0";
        env["metrics_port"] = "0";
        env["suppress_lock"] = "true";
        env["bind_address"] = "127.0.0.1";

        if (env.ContainsKey("http_upstream_url"))
        {
            // mode=http samples listen where http_upstream_url says: a port of the spec's here, not the README's.
            env["http_upstream_url"] = "http://127.0.0.1:" + Ports.Unshared().ToString(CultureInfo.InvariantCulture);
        }

        await using var watchdog = WatchdogProcess.Start(env, workingDirectory: dir);
        await watchdog.WaitUntilListeningAsync();
        using var probe = new HttpClient();
        (await Processes.EventuallyAsync(async () => (await probe.GetAsync(new Uri(watchdog.Url, "/_/ready"))).IsSuccessStatusCode, TimeSpan.FromSeconds(30)))
            .Should().BeTrue($"samples/{sample} should become ready; it printed:\n{watchdog.Output}");
        var output = await BashAsync(call.Replace("127.0.0.1:8080", "127.0.0.1:" + watchdog.Url.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));

        DocBlocks.Matches(expected, output).Should().BeTrue($"the README of samples/{sample} promises\n{expected}\nbut the call printed\n{output}");
    }

    private static async Task<string> BashAsync(string command)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("set -o pipefail; " + command);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("bash did not start");
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Trim();
    }
}
