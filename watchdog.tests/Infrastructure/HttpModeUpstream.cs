using Fwatchdog.Configuration;

namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// The state folder and port (<see cref="Ports.Unshared"/>) of one Fixtures/upstream.py function server (mode=http specs):
/// files in the folder open its gate, make it healthy, and record what it saw.
/// </summary>
internal sealed class HttpModeUpstream : IDisposable
{
    public HttpModeUpstream()
    {
        State = Directory.CreateTempSubdirectory("upstream-").FullName;
        Port = Ports.Unshared();
    }

    public string State { get; }

    public int Port { get; }

    public string Fprocess => $"python3 {TestWatchdog.Fixture("upstream.py")} {Port.ToString(CultureInfo.InvariantCulture)} {State}";

    public Dictionary<string, string?> Environment(params (string Name, string Value)[] extra)
    {
        var env = new Dictionary<string, string?>
        {
            ["fprocess"] = Fprocess,
            ["mode"] = "http",
            ["http_upstream_url"] = $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}",
        };
        foreach (var (name, value) in extra)
        {
            env[name] = value;
        }

        return env;
    }

    /// <summary>A watchdog in this process in mode=http in front of this upstream.</summary>
    public Task<TestWatchdog> StartWatchdogAsync(params (string Name, string Value)[] extra) => TestWatchdog.StartAsync(Environment(extra));

    public void Touch(string name) => File.WriteAllText(Path.Combine(State, name), "");

    public void Remove(string name) => File.Delete(Path.Combine(State, name));

    public bool Has(string name) => File.Exists(Path.Combine(State, name));

    public string Read(string name) => File.ReadAllText(Path.Combine(State, name));

    public void Dispose()
    {
        try
        {
            Directory.Delete(State, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
