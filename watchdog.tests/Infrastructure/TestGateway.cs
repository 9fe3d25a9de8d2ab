using System.Collections.Concurrent;
using Fwatchdog.Gateway;

namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// A real gateway on 127.0.0.1:0, configured the way users do it (settings as environment
/// variables and a stack file), with a temp data folder that outlives a restart.
/// </summary>
internal sealed class TestGateway : IAsyncDisposable
{
    private readonly GatewayApp _app;
    private readonly bool _ownsFolder;

    private TestGateway(GatewayApp app, GatewayOptions options, string dataDir, bool ownsFolder)
    {
        _app = app;
        _ownsFolder = ownsFolder;
        Options = options;
        DataDir = dataDir;
        Client = new HttpClient(new LocationRecorder()) { BaseAddress = app.Url, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>
    /// The status URL (with its token) each 202 gave, by call id. A spec names a call by its id, and
    /// reads it the way a user does: through the Location of its 202. Shared by every gateway, since
    /// NATS specs accept a call at one gateway and read it at another.
    /// </summary>
    private static readonly ConcurrentDictionary<string, string> StatusPaths = new(StringComparer.Ordinal);

    /// <summary>The status path of a call whose 202 a spec has seen (see <see cref="Remember"/>).</summary>
    public static string StatusOf(string callId) =>
        StatusPaths.TryGetValue(callId, out var path) ? path : throw new InvalidOperationException($"no 202 with a Location was seen for call {callId}");

    /// <summary>Records the Location of a 202 (TestGateway.Client does it for every answer); returns the call id.</summary>
    public static string Remember(HttpResponseMessage accepted)
    {
        var callId = accepted.Headers.GetValues("X-Call-Id").Single();
        if (accepted.StatusCode == System.Net.HttpStatusCode.Accepted && accepted.Headers.Location is { } location)
        {
            StatusPaths[callId] = location.OriginalString;
        }

        return callId;
    }

    /// <summary>Records a status path a spec made itself (a chained call, opened by its parent's token).</summary>
    public static void Learn(string callId, string statusPath) => StatusPaths[callId] = statusPath;

    private sealed class LocationRecorder() : DelegatingHandler(new SocketsHttpHandler { AllowAutoRedirect = false })
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.Headers.Contains("X-Call-Id"))
            {
                Remember(response);
            }

            return response;
        }
    }

    public GatewayOptions Options { get; }

    public string DataDir { get; }

    public HttpClient Client { get; }

    public Uri Url => _app.Url;

    public GatewayApp App => _app;

    /// <summary>Starts a gateway with <paramref name="stack"/> as its stack file and <paramref name="settings"/> as environment.</summary>
    public static async Task<TestGateway> StartAsync(string stack, IReadOnlyDictionary<string, string>? settings = null, string? dataDir = null)
    {
        var folder = dataDir ?? Directory.CreateTempSubdirectory("fwatchdog-gw-").FullName;
        var stackPath = Path.Combine(folder, "stack.json");
        await File.WriteAllTextAsync(stackPath, stack);
        var environment = new Dictionary<string, string?>
        {
            ["config"] = stackPath,
            ["port"] = "0",
            ["bind_address"] = "127.0.0.1",
            ["metrics_port"] = "0",
            ["data_dir"] = Path.Combine(folder, "data"),
            ["initial_retry_wait"] = "50ms",
            ["max_retry_wait"] = "500ms",
            ["shutdown_timeout"] = "5s",

            // Specs call back to receivers on 127.0.0.1, which the gateway refuses unless listed;
            // a spec that wants the default passes callback_allowed_hosts="" (GatewayReachSpecs).
            ["callback_allowed_hosts"] = "127.0.0.1",
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        var outcome = GatewayOptions.Parse(environment, new Dictionary<string, string>());
        outcome.Errors.Should().BeEmpty();
        var options = outcome.Value ?? throw new InvalidOperationException("gateway fixture options");
        var app = GatewayApp.Create(options);
        await app.StartAsync();
        return new TestGateway(app, options, folder, dataDir is null);
    }

    /// <summary>
    /// Settings for a gateway run as a real process (<c>fwatchdog gateway</c>) with its stack file
    /// and data in <paramref name="folder"/>: loopback, port 0, a 1 s lease so a killed
    /// gateway's calls come back quickly.
    /// </summary>
    public static Dictionary<string, string> ProcessEnvironment(string folder, string stack)
    {
        var stackPath = Path.Combine(folder, "stack.json");
        File.WriteAllText(stackPath, stack);
        return new Dictionary<string, string>
        {
            ["config"] = stackPath,
            ["port"] = "0",
            ["bind_address"] = "127.0.0.1",
            ["metrics_port"] = "0",
            ["data_dir"] = Path.Combine(folder, "data"),
            ["queue_lease"] = "1s",
            ["queue_workers"] = "8",
            ["initial_retry_wait"] = "50ms",
            ["callback_allowed_hosts"] = "127.0.0.1",
        };
    }

    /// <summary>
    /// <c>fwatchdog gateway</c> as a process (<see cref="ProcessEnvironment"/>) with one function,
    /// <c>work</c>, at <paramref name="function"/>, and <paramref name="settings"/> on top.
    /// </summary>
    public static WatchdogProcess StartProcess(IReadOnlyDictionary<string, string> settings, Uri function)
    {
        var folder = Directory.CreateTempSubdirectory("fwatchdog-gateway-").FullName;
        var environment = ProcessEnvironment(folder, Stack(("work", function)));
        foreach (var (name, value) in settings)
        {
            environment[name] = value;
        }

        return WatchdogProcess.Start(environment, ["gateway"]);
    }

    /// <summary>A stack file with one upstream function per (name, url).</summary>
    public static string Stack(params (string Name, Uri Upstream)[] functions) => Stack(functions.Select(f => (f.Name, $$"""{ "upstream": "{{f.Upstream}}" }""")).ToArray());

    public static string Stack(params (string Name, string Json)[] functions) =>
        "{ \"functions\": { " + string.Join(", ", functions.Select(f => $"\"{f.Name}\": {f.Json}")) + " } }";

    public async Task<HttpResponseMessage> PostAsync(string path, string body, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body) };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await Client.SendAsync(request);
    }

    /// <summary>Polls the status API until the call reaches one of <paramref name="states"/>.</summary>
    public async Task<JsonElement> WaitForStateAsync(string callId, TimeSpan within, params string[] states)
    {
        var deadline = DateTime.UtcNow + within;
        JsonElement status = default;
        while (DateTime.UtcNow < deadline)
        {
            status = await Client.GetFromJsonAsync<JsonElement>(TestGateway.StatusOf(callId));
            if (states.Contains(status.GetProperty("state").GetString()))
            {
                return status;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"call {callId} did not reach {string.Join("/", states)} within {within}; last status: {status}");
    }

    /// <summary>Polls the status API until the call's callback reaches one of <paramref name="states"/>; returns the callback part.</summary>
    public async Task<JsonElement> WaitForCallbackAsync(string callId, TimeSpan within, params string[] states)
    {
        var deadline = DateTime.UtcNow + within;
        JsonElement status = default;
        while (DateTime.UtcNow < deadline)
        {
            status = await Client.GetFromJsonAsync<JsonElement>(TestGateway.StatusOf(callId));
            if (status.TryGetProperty("callback", out var callback) && states.Contains(callback.GetProperty("state").GetString()))
            {
                return callback;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"the callback of {callId} did not reach {string.Join("/", states)} within {within}; last status: {status}");
    }

    /// <summary>Stops the gateway; deletes its data folder unless the test passed its own.</summary>
    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.DisposeAsync();
        if (_ownsFolder)
        {
            Directory.Delete(DataDir, recursive: true);
        }
    }
}
