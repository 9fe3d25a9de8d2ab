using System.Diagnostics;
using System.Runtime.InteropServices;
using Fwatchdog.Configuration;
using Fwatchdog.Execution;
using Fwatchdog.Hosting;
using Fwatchdog.Server;
using Fwatchdog.Server.ForkMode;
using Fwatchdog.Server.HttpMode;
using Fwatchdog.Server.StaticMode;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fwatchdog;

/// <summary>
/// The composition root of the function watchdog, used by <c>Program</c> and by the specs alike,
/// so tests run the real pipeline on a real Kestrel.
/// </summary>
internal sealed partial class WatchdogApp : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly WatchdogOptions _options;
    private readonly HealthState _health;
    private readonly LockFile _lockFile;
    private readonly IFunctionRunner _runner;
    private readonly InflightLimiter _limiter;
    private readonly ILogger _logger;

    /// <summary>Exports spans when OTEL_* settings ask for it; null, and the SDK untouched, otherwise.</summary>
    private readonly IDisposable? _traceExport;

    private WatchdogApp(WebApplication app, WatchdogOptions options)
    {
        _app = app;
        _options = options;
        _traceExport = options.TraceExport is { } export ? Tracing.TraceExporter.Start(export, "fwatchdog") : null;
        _health = app.Services.GetRequiredService<HealthState>();
        _lockFile = app.Services.GetRequiredService<LockFile>();
        _runner = app.Services.GetRequiredService<IFunctionRunner>();
        _limiter = app.Services.GetRequiredService<InflightLimiter>();
        _logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Fwatchdog");
        if (options.TraceExport is not null && _traceExport is null)
        {
            LogNoExport(_logger);
        }
    }

    /// <summary>The function's base address once started, e.g. http://127.0.0.1:41234.</summary>
    public Uri Url { get; private set; } = new("http://127.0.0.1:0");

    public static WatchdogApp Create(WatchdogOptions options)
    {
        var builder = HostSetup.CreateBuilder(options.BindAddress, options.Port, options.MetricsPort,
            options.MaxRequestBytes > 0 ? options.MaxRequestBytes : null, options.ReadTimeout > TimeSpan.Zero ? options.ReadTimeout : null, options.WriteDebug);

        // Kestrel's default waits for each read with a one-byte MSG_PEEK before it takes a buffer:
        // one more system call per receive, 4 KiB at a time. A function serves few connections, so
        // the 4 KiB an idle connection then holds is cheap.
        builder.WebHost.UseSockets(sockets => sockets.WaitForDataBeforeAllocatingBuffer = false);
        AddServices(builder.Services, options);
        var app = builder.Build();
        MapRoutes(app, options);
        return new WatchdogApp(app, options);
    }

    private static void AddServices(IServiceCollection services, WatchdogOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<HealthState>();
        services.AddSingleton(new LockFile(options.SuppressLock, options.LockFile));
        services.AddSingleton(new InflightLimiter(options.MaxInflight));
        services.AddSingleton<ProcessTable>();
        if (options.Runner == RunnerKind.CliWrap)
        {
            services.AddSingleton<IFunctionRunner, CliWrapFunctionRunner>();
        }
        else
        {
            services.AddSingleton<IFunctionRunner, NativeFunctionRunner>();
        }

        services.AddSingleton<WatchdogMetrics>();
        services.AddSingleton<FunctionHandler>();
        services.AddSingleton<HealthEndpoints>();
        HttpModeSetup.AddServices(services, options);
    }

    /// <summary>
    /// The metrics port serves /metrics alone; the main port health, readiness and, for every
    /// other path, the mode's handler (fork, http or static).
    /// </summary>
    private static void MapRoutes(WebApplication app, WatchdogOptions options)
    {
        var function = app.Services.GetRequiredService<FunctionHandler>();
        var healthEndpoints = app.Services.GetRequiredService<HealthEndpoints>();
        var metrics = app.Services.GetRequiredService<WatchdogMetrics>();
        var metricsPort = options.MetricsPort;
        RequestDelegate serve = function.HandleAsync;
        Func<HttpContext, bool, Task> healthCheck = healthEndpoints.HandleAsync;

        // Every call that arrives, in every mode and whatever its answer, keeps the SIGTERM window open (DrainAsync).
        var limiter = app.Services.GetRequiredService<InflightLimiter>();
        app.Use((context, next) =>
        {
            if ((metricsPort == 0 || context.Connection.LocalPort != metricsPort)
                && context.Request.Path.Value is not (HealthEndpoints.HealthPath or HealthEndpoints.ReadyPath))
            {
                limiter.NoteArrival();
            }

            return next(context);
        });
        if (options.IsHttpMode)
        {
            serve = app.Services.GetRequiredService<HttpModeHandler>().HandleAsync;
            healthCheck = app.Services.GetRequiredService<UpstreamHealth>().HandleAsync;
        }
        else if (options.IsStaticMode)
        {
            StaticSite.Use(app, options.StaticPath, context => (metricsPort == 0 || context.Connection.LocalPort != metricsPort)
                && context.Request.Path.Value is not (HealthEndpoints.HealthPath or HealthEndpoints.ReadyPath));
            serve = StaticSite.NotFoundAsync;
        }

        app.Run(context =>
        {
            if (metricsPort != 0 && context.Connection.LocalPort == metricsPort)
            {
                if (context.Request.Path == "/metrics")
                {
                    return metrics.WriteAsync(context);
                }

                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return context.Request.Path.Value switch
            {
                HealthEndpoints.HealthPath => healthCheck(context, false),
                HealthEndpoints.ReadyPath => healthCheck(context, true),
                _ => serve(context),
            };
        });
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (TempFolder.Ensure() is { } problem)
        {
            LogTempFolder(_logger, problem);
        }

        CheckFunctionProcess();
        _app.Services.GetService<UpstreamProcess>()?.Start();
        await _app.StartAsync(cancellationToken);
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        Url = HostSetup.MainAddress(addresses, _options.MetricsPort);
        _lockFile.Create();
        LogStarted(_logger, Url.Port, _options.FunctionProcess, DurationParser.Format(_options.ReadTimeout), DurationParser.Format(_options.WriteTimeout),
            DurationParser.Format(_options.ExecTimeout), DurationParser.Format(_options.HealthcheckInterval), _options.MaxInflight,
            _options.MetricsPort, _lockFile.Suppressed ? "suppressed" : _lockFile.Path);
    }

    /// <summary>
    /// The program fprocess names must be there and executable before we listen, found the way
    /// execvp would (a name on PATH; a path with a slash from the working directory). Otherwise
    /// health would say 200 until every call fails (every mode but static, which runs nothing).
    /// </summary>
    private void CheckFunctionProcess()
    {
        if (_options.IsStaticMode || _options.Command.Count == 0 || ExecutableResolver.TryResolve(_options.Command[0], out _, out var error))
        {
            return;
        }

        var searched = _options.Command[0].Contains('/', StringComparison.Ordinal) ? $" (working directory {Environment.CurrentDirectory})" : $" (PATH={ExecutableResolver.SearchPath})";
        throw new StartupException($"fprocess=\"{_options.FunctionProcess}\": {error}{searched}; set fprocess to a command this server can run, e.g. fprocess=cat");
    }

    /// <summary>Serves until SIGTERM (drain, then exit 0) or SIGINT (stop now).</summary>
    public async Task<int> RunAsync()
    {
        using var signal = new ShutdownSignal();
        await StartAsync();
        if (_options.ExitOnStdinEof)
        {
            _ = Task.Run(async () =>
            {
                await WaitForStdinEofAsync();
                signal.Raise(PosixSignal.SIGTERM);
            });
        }

        if (await signal.Received == PosixSignal.SIGTERM)
        {
            await DrainAsync();
        }
        else
        {
            _health.StartDraining();
            await StopAsync(TimeSpan.Zero);
        }

        return 0;
    }

    private static async Task WaitForStdinEofAsync()
    {
        await using var stdin = Console.OpenStandardInput();
        var buffer = new byte[256];
        try
        {
            while (await stdin.ReadAsync(buffer) > 0)
            {
            }
        }
        catch (IOException)
        {
        }
    }

    /// <summary>How long an idle watchdog waits for one more call after SIGTERM before it stops listening.</summary>
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The SIGTERM sequence: health 503 at once and the lock file removed; keep serving for up to
    /// healthcheck_interval so the orchestrator can take us out of rotation, but no longer than
    /// it takes to see no call in flight and none arriving for <see cref="QuietPeriod"/> (an idle
    /// watchdog must fit docker's 10 s grace); then stop accepting and give calls in flight up to
    /// write_timeout; then stop what is left.
    /// </summary>
    public async Task DrainAsync()
    {
        _health.StartDraining();
        _lockFile.Delete();
        LogDraining(_logger, DurationParser.Format(_options.HealthcheckInterval), DurationParser.Format(QuietPeriod));
        var window = Stopwatch.StartNew();
        while (window.Elapsed < _options.HealthcheckInterval && !(_limiter.Current == 0 && _limiter.SinceLastCall >= QuietPeriod))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }

        LogStopping(_logger, _limiter.Current);
        await StopAsync(_options.WriteTimeout > TimeSpan.Zero ? _options.WriteTimeout : TimeSpan.FromSeconds(30));
    }

    private async Task StopAsync(TimeSpan drain)
    {
        using var deadline = new CancellationTokenSource(drain);
        using var onDeadline = deadline.Token.Register(_health.StopCalls);
        await _app.StopAsync(deadline.Token);
        await StopUpstreamAsync();
        _runner.KillAll();
        LogExited(_logger, _limiter.Current);
    }

    public async ValueTask DisposeAsync()
    {
        _health.StopCalls();
        await StopUpstreamAsync();
        await _app.DisposeAsync();
        _runner.KillAll();
        _traceExport?.Dispose();
        try
        {
            _lockFile.Delete();
        }
        catch (IOException)
        {
        }
    }

    /// <summary>mode=http: after the calls in flight, SIGTERM to the function's process group, SIGKILL after kill_grace.</summary>
    private Task StopUpstreamAsync() => _app.Services.GetService<UpstreamProcess>()?.StopAsync() ?? Task.CompletedTask;

    [LoggerMessage(EventId = 100, Level = LogLevel.Information,
        Message = "Listening on port {Port}; fprocess=\"{Fprocess}\" read_timeout={Read} write_timeout={Write} exec_timeout={Exec} healthcheck_interval={Health} max_inflight={MaxInflight} metrics_port={MetricsPort} lock={Lock}")]
    private static partial void LogStarted(ILogger logger, int port, string fprocess, string read, string write, string exec, string health, int maxInflight, int metricsPort, string @lock);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information,
        Message = "SIGTERM: health is 503; still serving for up to healthcheck_interval={Interval}, until no call has been in flight or arrived for {Quiet}")]
    private static partial void LogDraining(ILogger logger, string interval, string quiet);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "{Problem}")]
    private static partial void LogTempFolder(ILogger logger, string problem);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning,
        Message = "OTEL_* settings ask for span export, which the watchdog-only build leaves out: trace context is passed on, no spans are sent; run the full fwatchdog binary to export them (docs/tracing.md)")]
    private static partial void LogNoExport(ILogger logger);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "No new connections allowed, draining {Inflight} requests")]
    private static partial void LogStopping(ILogger logger, int inflight);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "Exiting. Requests still in flight: {Inflight}")]
    private static partial void LogExited(ILogger logger, int inflight);
}
