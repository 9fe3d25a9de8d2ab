namespace Fwatchdog.Tests.Specs;

/// <summary>
/// The test suite itself: its servers never outlive
/// it, and a missing prerequisite is one line naming the package, not a page of failures.
/// </summary>
public sealed class TestHygieneSpecs
{
    [Fact(Timeout = 60_000)]
    public async Task A_nats_server_started_by_the_fixture_dies_with_a_test_host_killed_before_it_could_dispose()
    {
        var store = Directory.CreateTempSubdirectory("fwatchdog-nats-host-").FullName;
        // A stand-in test host that starts nats-server the way NatsServer does and is then killed with SIGKILL.
        var host = new ProcessStartInfo("python3") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[]
        {
            "-c", "import subprocess, sys, time; p = subprocess.Popen(['bash', '-c'] + sys.argv[1:], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); print(p.pid, flush=True); time.sleep(600)",
            NatsServer.Guard, "nats-guard", NatsServer.Executable(), "-js", "-a", "127.0.0.1", "-p", "-1", "-sd", store,
        })
        {
            host.ArgumentList.Add(arg);
        }

        using var python = StartedProcesses.Track(Process.Start(host) ?? throw new InvalidOperationException("python3 did not start"));
        var guard = int.Parse(await python.StandardOutput.ReadLineAsync() ?? "0", CultureInfo.InvariantCulture);
        var server = 0;
        (await Processes.EventuallyAsync(() => (server = Processes.All().FirstOrDefault(pid => Processes.ParentOf(pid) == guard)) > 0, TimeSpan.FromSeconds(20)))
            .Should().BeTrue("the guard starts nats-server");

        python.Kill();
        await python.WaitForExitAsync();

        (await Processes.EventuallyAsync(() => !Processes.IsAlive(server), TimeSpan.FromSeconds(20)))
            .Should().BeTrue("nats-server must not outlive the test host that started it");
        Directory.Delete(store, recursive: true);
    }

    [Fact]
    public void A_missing_nats_server_is_one_line_naming_the_package_and_the_test_command()
    {
        var missing = () => NatsServer.Executable(path: Directory.CreateTempSubdirectory("fwatchdog-empty-path-").FullName);

        missing.Should().Throw<InvalidOperationException>()
            .Which.Message.Should().NotContain("\n").And.Contain("apt-get install -y nats-server").And.Contain("bash .ci/test");
    }

    [Fact(Timeout = 60_000)]
    public async Task The_test_command_without_nats_server_and_no_way_to_install_it_stops_at_once_with_one_line()
    {
        var root = DocumentationSpecs.RepositoryRoot();
        var bin = Directory.CreateTempSubdirectory("fwatchdog-path-").FullName;
        foreach (var tool in new[] { "bash", "dirname", "id", "dpkg", "setsid", "unshare", "setpriv", "nsenter", "ip", "sh", "head", "git", "curl", "gzip", "python3", "clang" })
        {
            if (FindOnPath(tool) is { } found)
            {
                File.CreateSymbolicLink(Path.Combine(bin, tool), found);
            }
        }

        var ran = Path.Combine(bin, "dotnet-ran");
        await File.WriteAllTextAsync(Path.Combine(bin, "dotnet"), $"#!/bin/sh\necho ran > {ran}\n");
        File.SetUnixFileMode(Path.Combine(bin, "dotnet"), (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(bin, (UnixFileMode)0b111_101_101);

        // The script from a folder the unprivileged user can read: the clone itself may sit in a
        // folder only root can enter (mktemp -d makes 0700 ones).
        var copy = Directory.CreateTempSubdirectory("fwatchdog-repo-").FullName;
        Directory.CreateDirectory(Path.Combine(copy, ".ci"));
        var script = Path.Combine(copy, ".ci", "test");
        File.Copy(Path.Combine(root, ".ci", "test"), script);
        foreach (var path in new[] { copy, Path.Combine(copy, ".ci"), script })
        {
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        }

        // As an unprivileged user without sudo, as on a developer's machine.
        var info = new ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = "/" };
        foreach (var arg in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "--", Path.Combine(bin, "bash"), script })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["PATH"] = bin;
        using var test = StartedProcesses.Track(Process.Start(info) ?? throw new InvalidOperationException("setpriv did not start"));
        var stdout = test.StandardOutput.ReadToEndAsync();
        var stderr = test.StandardError.ReadToEndAsync();
        await test.WaitForExitAsync();
        var output = (await stdout + await stderr).Trim();

        test.ExitCode.Should().Be(1, output);
        output.Split('\n').Should().ContainSingle("one line says what is missing").Which.Should().Contain("nats-server").And.Contain("apt-get install -y");
        File.Exists(ran).Should().BeFalse("the suite does not start without its prerequisites");
        Directory.Delete(bin, recursive: true);
        Directory.Delete(copy, recursive: true);
    }

    private static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);
}
