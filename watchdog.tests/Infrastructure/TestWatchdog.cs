using Fwatchdog.Configuration;

namespace Fwatchdog.Tests.Infrastructure;

/// <summary>A real watchdog on 127.0.0.1 with an ephemeral port, running a fixture script.</summary>
internal sealed class TestWatchdog : IAsyncDisposable
{
    private readonly WatchdogApp _app;

    private TestWatchdog(WatchdogApp app, WatchdogOptions options)
    {
        _app = app;
        Options = options;
        Client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
    }

    public WatchdogOptions Options { get; }

    public HttpClient Client { get; }

    public Uri Url => _app.Url;

    public Uri MetricsUrl => new($"http://127.0.0.1:{Options.MetricsPort}/metrics");

    public static Task<TestWatchdog> StartAsync(string fprocess, Func<WatchdogOptions, WatchdogOptions>? configure = null) =>
        StartAsync(new Dictionary<string, string?> { ["fprocess"] = fprocess }, configure);

    /// <summary>A watchdog configured the way users do it (<paramref name="environment"/>), on 127.0.0.1:0 with the metrics port free and no lock file.</summary>
    public static Task<TestWatchdog> StartAsync(IReadOnlyDictionary<string, string?> environment, Func<WatchdogOptions, WatchdogOptions>? configure = null)
    {
        var outcome = WatchdogOptions.Parse(environment, new Dictionary<string, string>());
        outcome.Errors.Should().BeEmpty();
        var options = (outcome.Value ?? throw new InvalidOperationException("fixture options")) with
        {
            Port = 0,
            BindAddress = "127.0.0.1",
            MetricsPort = 0,
            SuppressLock = true,
            KillGrace = TimeSpan.FromMilliseconds(500),
        };
        return StartAsync(configure is null ? options : configure(options));
    }

    public static async Task<TestWatchdog> StartAsync(WatchdogOptions options)
    {
        var app = WatchdogApp.Create(options);
        await app.StartAsync();
        return new TestWatchdog(app, options);
    }

    /// <summary>Runs a fixture script from Fixtures/ under sh.</summary>
    public static Task<TestWatchdog> StartScriptAsync(string script, Func<WatchdogOptions, WatchdogOptions>? configure = null) =>
        StartAsync($"sh {Fixture(script)}", configure);

    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.DisposeAsync();
    }
}
