namespace Fwatchdog.Tests.Infrastructure;

/// <summary>A temp folder where fixture scripts write the pids they start (header X-Pid-Dir).</summary>
internal sealed class PidDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("fwatchdog-pids-").FullName;

    public HttpRequestMessage Request(HttpMethod method, Uri url, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = content };
        request.Headers.Add("X-Pid-Dir", Path);
        return request;
    }

    public async Task<int> WaitForPidAsync(string name)
    {
        var file = System.IO.Path.Combine(Path, name);
        var found = await Processes.EventuallyAsync(() => File.Exists(file) && File.ReadAllText(file).Trim().Length > 0, TimeSpan.FromSeconds(10));
        found.Should().BeTrue($"the fixture should have written {name}");
        return int.Parse(File.ReadAllText(file).Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        foreach (var file in Directory.EnumerateFiles(Path))
        {
            if (int.TryParse(File.ReadAllText(file).Trim(), out var pid) && Processes.IsAlive(pid))
            {
                Fwatchdog.Native.Libc.Kill(pid, Fwatchdog.Native.Libc.SIGKILL);
            }
        }

        Directory.Delete(Path, recursive: true);
    }
}
