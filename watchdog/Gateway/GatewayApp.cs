using Fwatchdog.Configuration;
using Fwatchdog.Forwarding;
using Fwatchdog.Gateway.Async;
using Fwatchdog.Gateway.Functions;
using Fwatchdog.Gateway.OpenFaasApi;
using Fwatchdog.Gateway.Queue;
using Fwatchdog.Gateway.Sync;
using Fwatchdog.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Gateway;

/// <summary>
/// The composition root of <c>fwatchdog gateway</c>, used by the command line and the specs.
/// Routes: <c>/function/*</c> (sync), <c>/async-function/*</c> (queue), <c>/async-calls/*</c>
/// (status API), <c>/healthz</c>, <c>/readyz</c>, <c>/system/*</c>, <c>/ui/</c> (the console); <c>/metrics</c> on metrics_port.
/// </summary>
internal sealed partial class GatewayApp : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GatewayOptions _options;
    private readonly GatewayParts _parts;
    private readonly ILogger _logger;
    private bool _stopped;

    /// <summary>Exports spans when OTEL_* settings ask for it; null, and the SDK untouched, otherwise.</summary>
    private readonly IDisposable? _traceExport;

    private GatewayApp(WebApplication app, GatewayOptions options, GatewayParts parts)
    {
        _app = app;
        _options = options;
        _parts = parts;
        _traceExport = options.TraceExport is { } export ? Tracing.TraceExporter.Start(export, "fwatchdog-gateway") : null;
        _logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Fwatchdog.Gateway");
    }

    /// <summary>The gateway's base address once started, e.g. http://127.0.0.1:41234.</summary>
    public Uri Url { get; private set; } = new("http://127.0.0.1:0");

    /// <summary>The metrics address once started (when metrics_port is not 0).</summary>
    public Uri? MetricsUrl { get; private set; }

    public IReadOnlyDictionary<string, LocalFunctionHost> LocalFunctions => _parts.Local;

    public static GatewayApp Create(GatewayOptions options, TimeProvider? timeProvider = null)
    {
        var builder = HostSetup.CreateBuilder(options.BindAddress, options.Port, options.MetricsPort, maxRequestBytes: null, HeadersTimeout(options.ReadTimeout), options.WriteDebug);
        var app = builder.Build();
        var parts = GatewayParts.Compose(options, timeProvider ?? TimeProvider.System, app.Services.GetRequiredService<ILoggerFactory>());
        MapRoutes(app, options, parts);
        return new GatewayApp(app, options, parts);
    }

    /// <summary>A read_timeout shorter than Kestrel's wait for request headers shortens it; a longer one never lengthens it.</summary>
    private static TimeSpan? HeadersTimeout(TimeSpan readTimeout) =>
        readTimeout > TimeSpan.Zero && readTimeout < HostSetup.DefaultHeadersTimeout ? readTimeout : null;

    /// <summary>
    /// Every request passes the request-text guard and the read/write deadlines; the metrics port
    /// serves /metrics and /healthz alone; the main port routes by path prefix.
    /// </summary>
    private static void MapRoutes(WebApplication app, GatewayOptions options, GatewayParts parts)
    {
        var deadlines = new RequestDeadlines(options.ReadTimeout, options.WriteTimeout, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<RequestDeadlines>());
        app.Use(RequestTextGuard.InvokeAsync);
        app.Use(deadlines.InvokeAsync);
        var metricsPort = options.MetricsPort;
        app.Run(context => metricsPort != 0 && context.Connection.LocalPort == metricsPort ? ServeMetricsPort(context, parts) : ServeMainPort(context, parts));
    }

    private static Task ServeMetricsPort(HttpContext context, GatewayParts parts) => context.Request.Path.Value switch
    {
        "/metrics" => parts.Metrics.WriteAsync(context),
        "/healthz" => parts.System.HealthAsync(context),
        _ => GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, "no such route"),
    };

    private static Task ServeMainPort(HttpContext context, GatewayParts parts)
    {
        var path = context.Request.Path.Value ?? "";
        return path switch
        {
            _ when path.StartsWith(FunctionProxy.Prefix, StringComparison.Ordinal) => parts.Proxy.HandleAsync(context),
            _ when path.StartsWith(AsyncAcceptHandler.Prefix, StringComparison.Ordinal) => parts.Accept.HandleAsync(context),
            _ when AsyncCallListing.Handles(context.Request) => parts.Listing.HandleAsync(context),
            _ when path.StartsWith(AsyncCallsEndpoints.Prefix, StringComparison.Ordinal) => parts.Calls.HandleAsync(context),
            "/healthz" => parts.System.HealthAsync(context),
            "/readyz" => parts.System.ReadyAsync(context),
            _ when path.StartsWith(SystemRoutes.Prefix, StringComparison.Ordinal) => parts.SystemApi.HandleAsync(context),
            Ui.ConsoleEndpoints.Root => parts.Console.HandleAsync(context),
            _ when path.StartsWith(Ui.ConsoleEndpoints.Prefix, StringComparison.Ordinal) => parts.Console.HandleAsync(context),
            _ => GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, "no such route; functions are under /function/{name} and /async-function/{name}"),
        };
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await Task.WhenAll(_parts.Local.Values.Select(host => host.StartAsync(TimeSpan.FromSeconds(15))));
        if (_parts.Queue is NatsJobQueue nats)
        {
            await nats.CheckAsync(cancellationToken);
        }

        await _app.StartAsync(cancellationToken);
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        Url = HostSetup.MainAddress(addresses, _options.MetricsPort);
        if (_options.MetricsPort != 0)
        {
            MetricsUrl = HostSetup.MainAddress(addresses, Url.Port);
        }

        _parts.Dispatcher.Start();
        LogStarted(_logger, Url.Port, _options.Functions.Count, _options.UpstreamTemplate ?? "(none)", _options.Queue == QueueKind.Nats ? _options.Nats.Url : Path.GetFullPath(_options.DataDir),
            _options.QueueWorkers, DurationParser.Format(_options.UpstreamTimeout), _options.MetricsPort);
    }

    /// <summary>Serves until SIGTERM or SIGINT, then shuts down in order and returns 0.</summary>
    public async Task<int> RunAsync()
    {
        using var signal = new ShutdownSignal();
        await StartAsync();
        LogSignal(_logger, (await signal.Received).ToString());
        await StopAsync();
        return 0;
    }

    /// <summary>
    /// Stop accepting (health 503, listener closed, sync calls in flight get shutdown_timeout);
    /// async workers stop claiming, running calls get shutdown_timeout to finish, the rest go back
    /// to the queue; then local functions are stopped.
    /// </summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        _parts.System.StartDraining();
        using var deadline = new CancellationTokenSource(_options.ShutdownTimeout);
        await Task.WhenAll(_app.StopAsync(deadline.Token), _parts.Dispatcher.StopAsync(_options.ShutdownTimeout));
        foreach (var host in _parts.Local.Values)
        {
            await host.DisposeAsync();
        }

        LogStopped(_logger);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _parts.Dispatcher.DisposeAsync();
        await _app.DisposeAsync();
        await _parts.DisposeAsync();
        _traceExport?.Dispose();
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Information,
        Message = "Gateway: Listening on port {Port}; functions={Functions} upstream_template={Template} queue={DataDir} queue_workers={Workers} upstream_timeout={Timeout} metrics_port={MetricsPort}")]
    private static partial void LogStarted(ILogger logger, int port, int functions, string template, string dataDir, int workers, string timeout, int metricsPort);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "{Signal}: no new calls; finishing or releasing running ones")]
    private static partial void LogSignal(ILogger logger, string signal);

    [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "Gateway stopped")]
    private static partial void LogStopped(ILogger logger);
}
