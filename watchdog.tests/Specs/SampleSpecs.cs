using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Fwatchdog.Tests.Infrastructure;

namespace Fwatchdog.Tests.Specs;

/// <summary>
/// Every sample runs through the real watchdog with the settings of its own Dockerfile, and the
/// curl command in its README must print the README's expected output, so samples never rot.
/// </summary>
public sealed partial class SampleSpecs
{
    public static TheoryData<string> Samples()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.EnumerateDirectories(Path.Combine(DocumentationSpecs.RepositoryRoot(), "samples")).Order())
        {
            data.Add(Path.GetFileName(dir));
        }

        return data;
    }

    [Fact]
    public void There_are_at_least_the_seven_documented_samples() =>
        Directory.EnumerateDirectories(Path.Combine(DocumentationSpecs.RepositoryRoot(), "samples")).Select(Path.GetFileName).Should().Contain(["echo", "word-count", "env-hello", "python-hello", "slow", "status", "gzip"]);

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(Samples))]
    public async Task Sample_answers_what_its_readme_documents(string sample)
    {
        var dir = Path.Combine(DocumentationSpecs.RepositoryRoot(), "samples", sample);
        var readme = File.ReadAllText(Path.Combine(dir, "README.md"));
        var curl = ShellBlock().Match(readme).Groups[1].Value.Split('\n').Single(line => line.Contains("curl", StringComparison.Ordinal));
        var expected = ExpectedBlock().Match(readme).Groups[1].Value;
        var env = DockerfileEnv.Read(Path.Combine(dir, "Dockerfile"));
        File.Exists(Path.Combine(dir, "Dockerfile")).Should().BeTrue();
        env.Should().ContainKey("fprocess");
        var port = TestWatchdog.FreePort().ToString(CultureInfo.InvariantCulture);
        env["port"] = port;
        env["metrics_port"] = "0";
        env["suppress_lock"] = "true";
        env["bind_address"] = "127.0.0.1";

        if (env.ContainsKey("http_upstream_url"))
        {
            // mode=http samples listen where http_upstream_url says: a free port here, not the README's.
            env["http_upstream_url"] = "http://127.0.0.1:" + TestWatchdog.FreePort().ToString(CultureInfo.InvariantCulture);
        }

        await using var watchdog = WatchdogProcess.Start(env, workingDirectory: dir);
        await watchdog.WaitUntilListeningAsync();
        using var probe = new HttpClient();
        (await HttpModeUpstream.EventuallyAsync(async () => (await probe.GetAsync(new Uri(watchdog.Url, "/_/ready"))).IsSuccessStatusCode, TimeSpan.FromSeconds(30)))
            .Should().BeTrue($"samples/{sample} should become ready; it printed:\n{watchdog.Output}");
        var output = await BashAsync(curl.Replace("127.0.0.1:8080", "127.0.0.1:" + port, StringComparison.Ordinal));

        output.Should().Be(expected, $"the README of samples/{sample} promises it");
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

    [GeneratedRegex("Call it:\\s*```sh\\n(.*?)\\n```", RegexOptions.Singleline)]
    private static partial Regex ShellBlock();

    [GeneratedRegex("Expected output:\\s*```\\n(.*?)\\n```", RegexOptions.Singleline)]
    private static partial Regex ExpectedBlock();
}
