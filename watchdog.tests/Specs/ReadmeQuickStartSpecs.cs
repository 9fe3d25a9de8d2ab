using System.Diagnostics;
using System.Globalization;
using Fwatchdog.Tests.Infrastructure;

namespace Fwatchdog.Tests.Specs;

/// <summary>The README's quick start, pasted into bash against the gateway its first command starts.</summary>
public sealed class ReadmeQuickStartSpecs
{
    [Fact(Timeout = 90_000)]
    public async Task The_quick_start_block_works_against_the_gateway_on_samples_stack_json()
    {
        var root = DocumentationSpecs.RepositoryRoot();
        var readme = await File.ReadAllTextAsync(Path.Combine(root, "README.md"));
        var start = readme.IndexOf("```sh\n", readme.IndexOf("Then, from another shell", StringComparison.Ordinal), StringComparison.Ordinal) + 6;
        var block = readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)];
        var data = Directory.CreateTempSubdirectory("fwatchdog-readme-").FullName;
        var metricsPort = TestWatchdog.FreePort();
        await using var gateway = WatchdogProcess.Start(new Dictionary<string, string>
        {
            ["port"] = "0",
            ["metrics_port"] = metricsPort.ToString(CultureInfo.InvariantCulture),
            ["bind_address"] = "127.0.0.1",
            ["data_dir"] = data,
        }, ["gateway", "--config", Path.Combine(root, "samples", "stack.json")]);
        await gateway.WaitUntilListeningAsync();

        var script = block.Replace("127.0.0.1:8080", $"127.0.0.1:{gateway.Url.Port}", StringComparison.Ordinal)
            .Replace("127.0.0.1:8082", $"127.0.0.1:{metricsPort}", StringComparison.Ordinal);
        var info = new ProcessStartInfo("bash", ["-c", "set -e\n" + script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var bash = Process.Start(info) ?? throw new InvalidOperationException("bash did not start");
        var output = await bash.StandardOutput.ReadToEndAsync();
        var errors = await bash.StandardError.ReadToEndAsync();
        await bash.WaitForExitAsync();
        Directory.Delete(data, recursive: true);

        bash.ExitCode.Should().Be(0, $"the block printed:\n{output}\n{errors}");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        lines[0].Should().Be("3");
        lines[1].Should().Contain("\"state\":\"succeeded\"");
        lines[2].Should().Be("later");
        lines.Skip(3).Should().Contain(l => l.StartsWith("gateway_function_invocation_total{function_name=\"word-count\",code=\"200\"} 1", StringComparison.Ordinal));
    }
}
