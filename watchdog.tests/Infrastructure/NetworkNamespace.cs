namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// A fresh network, PID and mount namespace (<c>unshare</c>, as root) where the docs' default ports
/// 8080-8083 and 4222 are free and <c>/tmp</c> is an empty tmpfs, with <paramref name="shared"/>
/// still visible at the same path. Everything started in it dies with it: disposing kills the
/// namespace's init, and the kernel kills the rest, even when a spec failed half-way.
/// </summary>
internal sealed class NetworkNamespace : IAsyncDisposable
{
    /// <summary>Why a spec that makes one needs root.</summary>
    public const string Needs = "unshare --net --pid --mount and mount -t tmpfs make the fresh network and /tmp the docs' commands run in";

    private readonly Process _holder;
    private readonly int _init;
    private readonly List<Process> _shells = [];

    private NetworkNamespace(Process holder, int init)
    {
        _holder = holder;
        _init = init;
    }

    /// <param name="shared">A folder outside the namespace's fresh /tmp that stays visible (the clone).</param>
    public static async Task<NetworkNamespace> CreateAsync(string shared)
    {
        var setup = $"set -e; ip link set lo up; mount --bind '{shared}' /mnt; mount -t tmpfs tmpfs /tmp; mkdir -p '{shared}'; mount --move /mnt '{shared}'; echo ready; exec sleep infinity";
        var info = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "--net", "--pid", "--mount", "--fork", "--kill-child", "--mount-proc", "bash", "-c", setup })
        {
            info.ArgumentList.Add(arg);
        }

        var holder = StartedProcesses.Track(Process.Start(info) ?? throw new InvalidOperationException("unshare did not start"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ready = await holder.StandardOutput.ReadLineAsync(timeout.Token);
        if (ready != "ready")
        {
            var errors = await holder.StandardError.ReadToEndAsync(timeout.Token);
            holder.Kill();
            throw new InvalidOperationException($"unshare --net --pid --mount (needs root) failed: {errors}");
        }

        var children = await File.ReadAllTextAsync($"/proc/{holder.Id}/task/{holder.Id}/children", timeout.Token);
        return new NetworkNamespace(holder, int.Parse(children.Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Starts <c>bash -c script</c> in <paramref name="directory"/> inside the namespace, collecting stdout and stderr.</summary>
    public Shell Start(string directory, string script)
    {
        var info = new ProcessStartInfo("nsenter") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = directory };
        foreach (var arg in new[] { "-t", _init.ToString(System.Globalization.CultureInfo.InvariantCulture), "--net", "--pid", "--mount", "--wdns=" + directory, "bash", "-c", script })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["TMPDIR"] = "/tmp";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) && k != "MSBUILDDISABLENODEREUSE").ToList())
        {
            info.Environment.Remove(name);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("nsenter did not start");
        _shells.Add(process);
        return new Shell(process);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_holder.HasExited)
        {
            _holder.Kill();
            await _holder.WaitForExitAsync();
        }

        // The namespace's init is gone, so the kernel has killed every process in it; reap our nsenters.
        foreach (var shell in _shells)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await shell.WaitForExitAsync(timeout.Token);
            shell.Dispose();
        }

        _holder.Dispose();
    }

    /// <summary>A bash started in the namespace; its output, also from background jobs it left running.</summary>
    internal sealed class Shell
    {
        private readonly Process _process;
        private readonly StringBuilder _stdout = new();
        private readonly StringBuilder _all = new();

        public Shell(Process process)
        {
            _process = process;
            process.OutputDataReceived += (_, e) => Collect(e.Data, stdout: true);
            process.ErrorDataReceived += (_, e) => Collect(e.Data, stdout: false);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public string Stdout
        {
            get
            {
                lock (_all)
                {
                    return _stdout.ToString();
                }
            }
        }

        /// <summary>stdout and stderr, interleaved.</summary>
        public string Output
        {
            get
            {
                lock (_all)
                {
                    return _all.ToString();
                }
            }
        }

        public async Task<bool> WaitForExitAsync(TimeSpan within)
        {
            using var timeout = new CancellationTokenSource(within);
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        /// <summary>Waits until the output has <paramref name="text"/> <paramref name="times"/> times.</summary>
        public async Task WaitForAsync(string text, TimeSpan within, int times = 1)
        {
            var deadline = DateTime.UtcNow + within;
            while (Count(text) < times && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }

            Count(text).Should().BeGreaterThanOrEqualTo(times, $"'{text}' should appear {times} time(s) within {within}; the commands printed:\n{Output}");
        }

        private int Count(string text)
        {
            var output = Output;
            var count = 0;
            for (var at = output.IndexOf(text, StringComparison.Ordinal); at >= 0; at = output.IndexOf(text, at + text.Length, StringComparison.Ordinal))
            {
                count++;
            }

            return count;
        }

        private void Collect(string? line, bool stdout)
        {
            if (line is null)
            {
                return;
            }

            lock (_all)
            {
                _all.AppendLine(line);
                if (stdout)
                {
                    _stdout.Append(line).Append('\n');
                }
            }
        }
    }
}
