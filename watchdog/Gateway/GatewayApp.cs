using System.Runtime.InteropServices;
using Fwatchdog.Configuration;
using Fwatchdog.Gateway.Async;
using Fwatchdog.Gateway.Functions;
using Fwatchdog.Gateway.Queue;
using Fwatchdog.Gateway.Sync;
using Fwatchdog.Hosting;
using Fwatchdog.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Gateway;

/// <summary>
/// The composition root of <c>fwatchdog gateway</c>, used by the command line and the specs.
/// Routes: <c>/function/*</c> (sync), <c>/async-function/*</c> (queue), <c>/async-calls/*</c>
/// (status API), <c>/healthz</c>, <c>/readyz</c>, <c>/system/*</c>; <c>/metrics</c> on metrics_port.
/// </summary>
internal sealed partial class GatewayApp : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GatewayOptions _options;
    private readonly IJobQueue _queue;
    private readonly AsyncDispatcher _dispatcher;
    private readonly SystemEndpoints _system;
    private readonly Dictionary<string, LocalFunctionHost> _local;
    private readonly FunctionClient _client;
    private readonly CallbackSender _callbacks;
    private readonly Http1Forwarder _forwarder;
    private readonly Http1Forwarder _checkedForwarder;
    private readonly ILogger _logger;
    private bool _stopped;

    private GatewayApp(WebApplication app, GatewayOptions options, IJobQueue queue, AsyncDispatcher dispatcher, SystemEndpoints system,
        Dictionary<string, LocalFunctionHost> local, FunctionClient client, CallbackSender callbacks, Http1Forwarder forwarder, Http1Forwarder checkedForwarder)
    {
        _forwarder = forwarder;
        _checkedForwarder = checkedForwarder;
        _app = app;
        _options = options;
        _queue = queue;
        _dispatcher = dispatcher;
        _system = system;
        _local = local;
        _client = client;
        _callbacks = callbacks;
        _logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Fwatchdog.Gateway");
    }

    /// <summary>The gateway's base address once started, e.g. http://127.0.0.1:41234.</summary>
    public Uri Url { get; private set; } = new("http://127.0.0.1:0");

    /// <summary>The metrics address once started (when metrics_port is not 0).</summary>
    public Uri? MetricsUrl { get; private set; }

    public IReadOnlyDictionary<string, LocalFunctionHost> LocalFunctions => _local;

    public static GatewayApp Create(GatewayOptions options, TimeProvider? timeProvider = null)
    {
        var time = timeProvider ?? TimeProvider.System;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            HostSetup.Listen(kestrel, options.BindAddress, options.Port);
            if (options.MetricsPort != 0)
            {
                HostSetup.Listen(kestrel, options.BindAddress, options.MetricsPort);
            }

            kestrel.AddServerHeader = false;
            HostSetup.ByteTransparentHeaders(kestrel);
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.MinResponseDataRate = null;
            if (options.ReadTimeout > TimeSpan.Zero && options.ReadTimeout < kestrel.Limits.RequestHeadersTimeout)
            {
                kestrel.Limits.RequestHeadersTimeout = options.ReadTimeout;
            }
        });
        HostSetup.Logging(builder.Logging, options.WriteDebug);
        builder.Services.AddSingleton<IHostLifetime, ExternalLifetime>();
        var app = builder.Build();
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();

        var local = options.Functions.Where(f => f.IsLocal).ToDictionary(
            f => f.Name, f => new LocalFunctionHost(f, options.WatchdogCommand, loggers.CreateLogger("Fwatchdog.Gateway.Function")), StringComparer.Ordinal);
        var registry = new FunctionRegistry(options, local);
        var metrics = new GatewayMetrics();
        var client = new FunctionClient(metrics);
        IJobQueue queue = options.Queue == "nats"
            ? new NatsJobQueue(options.Nats, options.DataDir, options.QueueLease, options.AsyncRetention, time, loggers.CreateLogger<NatsJobQueue>(), options.QueueFunctions)
            : new SqliteJobQueue(options.DataDir, options.QueueLease, options.CallbackTimeout, time, options.QueueFunctions);
        metrics.QueueDepth = queue.CountAsync;
        var spool = new BodySpool(Path.Combine(Path.GetFullPath(options.DataDir), "bodies"));
        var callbacks = new CallbackSender(options, queue, time, loggers.CreateLogger<CallbackSender>());
        var retries = new RetryPolicy(options.RetryCodes, options.InitialRetryWait, options.MaxRetryWait);
        var runner = new JobRunner(queue, registry, client, retries, spool, callbacks, metrics, time, loggers.CreateLogger<JobRunner>());
        var dispatcher = new AsyncDispatcher(options, queue, registry, runner, callbacks, time, loggers.CreateLogger<AsyncDispatcher>());
        var forwarder = new Http1Forwarder(time, Streaming.SpoolLimits.InTempFolder(options.MaxSpoolBytes));

        // Hosts that callers' names chose (upstream_template) get their own pool, whose every
        // new connection checks where the name resolves.
        var checkedForwarder = new Http1Forwarder(time, Streaming.SpoolLimits.InTempFolder(options.MaxSpoolBytes), Reach.CheckedConnect.ConnectAsync);
        var proxy = new FunctionProxy(registry, forwarder, checkedForwarder, metrics, time, loggers.CreateLogger<FunctionProxy>());
        var admissions = new QueueAdmission(options, registry, queue, new DiskBudget(Path.GetFullPath(options.DataDir), options.AsyncMaxDiskBytes, time));
        var accept = new AsyncAcceptHandler(options, registry, queue, dispatcher, new CallbackPolicy(options.CallbackAllowedHosts), spool, admissions, metrics, loggers.CreateLogger<AsyncAcceptHandler>());
        var calls = new AsyncCallsEndpoints(queue, dispatcher, options);
        var listing = new AsyncCallListing(queue, dispatcher, admissions, new CallFilters(options, registry, time), options, loggers.CreateLogger<AsyncCallListing>());
        var system = new SystemEndpoints(options, registry, local, metrics, queue);

        var metricsPort = options.MetricsPort;
        var deadlines = new RequestDeadlines(options.ReadTimeout, options.WriteTimeout, loggers.CreateLogger<RequestDeadlines>());
        app.Use(RequestTextGuard.InvokeAsync);
        app.Use(deadlines.InvokeAsync);
        app.Run(context =>
        {
            var path = context.Request.Path.Value ?? "";
            if (metricsPort != 0 && context.Connection.LocalPort == metricsPort)
            {
                return path switch
                {
                    "/metrics" => metrics.WriteAsync(context),
                    "/healthz" => system.HealthAsync(context),
                    _ => GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, "no such route"),
                };
            }

            if (path.StartsWith(FunctionProxy.Prefix, StringComparison.Ordinal))
            {
                return proxy.HandleAsync(context);
            }

            if (path.StartsWith(AsyncAcceptHandler.Prefix, StringComparison.Ordinal))
            {
                return accept.HandleAsync(context);
            }

            if (AsyncCallListing.Handles(context.Request))
            {
                return listing.HandleAsync(context);
            }

            if (path.StartsWith(AsyncCallsEndpoints.Prefix, StringComparison.Ordinal))
            {
                return calls.HandleAsync(context);
            }

            if (path == "/healthz")
            {
                return system.HealthAsync(context);
            }

            if (path == "/readyz")
            {
                return system.ReadyAsync(context);
            }

            return path.StartsWith("/system/", StringComparison.Ordinal)
                ? system.SystemAsync(context)
                : GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, "no such route; functions are under /function/{name} and /async-function/{name}");
        });
        return new GatewayApp(app, options, queue, dispatcher, system, local, client, callbacks, forwarder, checkedForwarder);
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await Task.WhenAll(_local.Values.Select(host => host.StartAsync(TimeSpan.FromSeconds(15))));
        if (_queue is NatsJobQueue nats)
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

        _dispatcher.Start();
        LogStarted(_logger, Url.Port, _options.Functions.Count, _options.UpstreamTemplate ?? "(none)", _options.Queue == "nats" ? _options.Nats.Url : Path.GetFullPath(_options.DataDir),
            _options.QueueWorkers, DurationParser.Format(_options.UpstreamTimeout), _options.MetricsPort);
    }

    /// <summary>Serves until SIGTERM or SIGINT, then shuts down in order and returns 0.</summary>
    public async Task<int> RunAsync()
    {
        var signal = new TaskCompletionSource<PosixSignal>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
        await StartAsync();
        var received = await signal.Task;
        LogSignal(_logger, received.ToString());
        await StopAsync();
        return 0;

        void Handle(PosixSignalContext context)
        {
            context.Cancel = true;
            signal.TrySetResult(context.Signal);
        }
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
        _system.StartDraining();
        using var deadline = new CancellationTokenSource(_options.ShutdownTimeout);
        await Task.WhenAll(_app.StopAsync(deadline.Token), _dispatcher.StopAsync(_options.ShutdownTimeout));
        foreach (var host in _local.Values)
        {
            await host.DisposeAsync();
        }

        LogStopped(_logger);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _dispatcher.DisposeAsync();
        await _app.DisposeAsync();
        await _queue.DisposeAsync();
        _client.Dispose();
        _callbacks.Dispose();
        _forwarder.Dispose();
        _checkedForwarder.Dispose();
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Information,
        Message = "Gateway: Listening on port {Port}; functions={Functions} upstream_template={Template} queue={DataDir} queue_workers={Workers} upstream_timeout={Timeout} metrics_port={MetricsPort}")]
    private static partial void LogStarted(ILogger logger, int port, int functions, string template, string dataDir, int workers, string timeout, int metricsPort);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "{Signal}: no new calls; finishing or releasing running ones")]
    private static partial void LogSignal(ILogger logger, string signal);

    [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "Gateway stopped")]
    private static partial void LogStopped(ILogger logger);
}
