using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Fwatchdog.Tests.Infrastructure;

namespace Fwatchdog.Tests.Specs;

/// <summary>The NativeAOT binary and the Dockerfile.template users copy into function images.</summary>
public sealed partial class PackagingSpecs
{
    private static string Template => Path.Combine(DocumentationSpecs.RepositoryRoot(), "Dockerfile.template");

    [Fact]
    public void Dockerfile_template_has_the_instructions_a_function_image_needs()
    {
        var lines = File.ReadAllLines(Template).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();

        lines.Should().Contain("ARG VARIANT=glibc");
        lines.Should().Contain(l => l.StartsWith("FROM ", StringComparison.Ordinal) && l.EndsWith(" AS build-glibc", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("FROM ", StringComparison.Ordinal) && l.EndsWith(" AS build-musl", StringComparison.Ordinal));
        lines.Should().Contain(l => l.Contains("dotnet publish watchdog -c Release -r", StringComparison.Ordinal));
        lines.Should().Contain("COPY --from=build /out/fwatchdog /usr/bin/fwatchdog");
        lines.Last(l => l.StartsWith("FROM ", StringComparison.Ordinal)).Should().Be("FROM run-${VARIANT}");
        new[] { "USER root", "USER 0" }.Should().NotContain(lines.Single(l => l.StartsWith("USER ", StringComparison.Ordinal)));
        DockerfileEnv.Read(Template).Keys.Should().Contain(["fprocess", "read_timeout", "write_timeout", "exec_timeout"]);
        lines.Should().Contain("EXPOSE 8080");
        lines.Should().Contain(l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal) && l.EndsWith("CMD [\"fwatchdog\", \"--run-healthcheck\"]", StringComparison.Ordinal));
        lines[^1].Should().Be("CMD [\"fwatchdog\"]");
    }

    [Fact]
    public void Dockerfile_template_has_no_text_placeholders_and_declares_every_variable_it_uses()
    {
        var text = File.ReadAllText(Template);
        var declared = ArgLine().Matches(text).Select(m => m.Groups[1].Value).ToHashSet();
        declared.Add("RID"); // set with ENV in the build stages

        text.Should().NotContainAny("{{", "<your", "TODO");
        UsedVariable().Matches(text).Select(m => m.Groups[1].Value).Should().OnlyContain(name => declared.Contains(name));
    }

    [Fact(Timeout = 600_000)]
    public async Task Published_aot_binary_serves_like_the_image_clean_environment_non_root()
    {
        var output = Directory.CreateTempSubdirectory("fwatchdog-aot-").FullName;
        try
        {
            var publish = await RunAsync("dotnet", "publish", Path.Combine(DocumentationSpecs.RepositoryRoot(), "watchdog"), "-c", "Release", "-r", "linux-x64", "-o", output);
            publish.ExitCode.Should().Be(0, publish.Output);
            publish.Output.Should().NotContainAny(["warning IL", "warning AOT"], "the AOT build must be free of trim/AOT warnings");
            File.SetUnixFileMode(output, (UnixFileMode)Convert.ToInt32("755", 8));
            var binary = Path.Combine(output, "fwatchdog");

            var env = DockerfileEnv.Read(Template);
            var port = TestWatchdog.FreePort().ToString(CultureInfo.InvariantCulture);
            env["port"] = port;
            env["metrics_port"] = "0";
            env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
            string[] nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
            await using var watchdog = WatchdogProcess.Start(env, wrapper: nobody, workingDirectory: "/tmp", binary: binary, cleanEnvironment: true);
            await watchdog.WaitUntilListeningAsync();
            using var client = new HttpClient();

            using var response = await client.PostAsync(watchdog.Url, new StringContent("from the image"));
            var healthcheck = await RunAsync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "env", "-i", $"port={port}", binary, "--run-healthcheck"]);

            (await response.Content.ReadAsStringAsync()).Should().Be("from the image");
            healthcheck.ExitCode.Should().Be(0, healthcheck.Output);
            watchdog.Output.Should().Contain("exec_timeout=10s");
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException(program + " did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"^ARG ([A-Z_]+)", RegexOptions.Multiline)]
    private static partial Regex ArgLine();

    [GeneratedRegex(@"\$\{?([A-Z_]+)\}?")]
    private static partial Regex UsedVariable();
}
