using Fwatchdog.Forwarding;
using Fwatchdog.Gateway.Async;
using Fwatchdog.Gateway.Functions;
using Fwatchdog.Gateway.OpenFaasApi;
using Fwatchdog.Gateway.Queue;
using Fwatchdog.Gateway.Sync;
using Fwatchdog.Streaming;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Gateway;

/// <summary>
/// What a gateway is made of, built once by <see cref="Compose"/>: the local functions, the queue
/// and its dispatcher, and the handlers <see cref="GatewayApp"/> routes to.
/// </summary>
internal sealed class GatewayParts : IAsyncDisposable
{
    public required Dictionary<string, LocalFunctionHost> Local { get; init; }

    public required GatewayMetrics Metrics { get; init; }

    public required IJobQueue Queue { get; init; }

    public required AsyncDispatcher Dispatcher { get; init; }

    public required FunctionProxy Proxy { get; init; }

    public required AsyncAcceptHandler Accept { get; init; }

    public required AsyncCallsEndpoints Calls { get; init; }

    public required AsyncCallListing Listing { get; init; }

    public required SystemEndpoints System { get; init; }

    public required SystemRoutes SystemApi { get; init; }
    public required Ui.ConsoleEndpoints Console { get; init; }

    public required FunctionClient Client { get; init; }

    public required CallbackSender Callbacks { get; init; }

    public required Http1Forwarder Forwarder { get; init; }

    public required Http1Forwarder CheckedForwarder { get; init; }

    public static GatewayParts Compose(GatewayOptions options, TimeProvider time, ILoggerFactory loggers)
    {
        var local = options.Functions.Where(f => f.IsLocal).ToDictionary(
            f => f.Name, f => new LocalFunctionHost(f, options.WatchdogCommand, loggers.CreateLogger("Fwatchdog.Gateway.Function"), time), StringComparer.Ordinal);
        var registry = new FunctionRegistry(options, local);
        var metrics = new GatewayMetrics();
        var client = new FunctionClient(metrics);
        var queue = OpenQueue(options, time, loggers);
        metrics.QueueDepth = queue.CountAsync;
        var spool = new BodySpool(Path.Combine(Path.GetFullPath(options.DataDir), "bodies"));
        var callbacks = new CallbackSender(options, queue, time, loggers.CreateLogger<CallbackSender>());
        var retries = new RetryPolicy(options.RetryCodes, options.InitialRetryWait, options.MaxRetryWait);
        var runner = new JobRunner(queue, registry, client, retries, spool, callbacks, metrics, time, loggers.CreateLogger<JobRunner>());
        var dispatcher = new AsyncDispatcher(options, queue, registry, runner, callbacks, time, loggers.CreateLogger<AsyncDispatcher>());
        var forwarder = new Http1Forwarder(time, SpoolLimits.InTempFolder(options.MaxSpoolBytes), ProxyHeaders.SetByGateway);

        // Hosts that callers' names chose (upstream_template) get their own pool, whose every
        // new connection checks where the name resolves.
        var checkedForwarder = new Http1Forwarder(time, SpoolLimits.InTempFolder(options.MaxSpoolBytes), ProxyHeaders.SetByGateway, Reach.CheckedConnect.ConnectAsync);
        var admissions = new QueueAdmission(options, registry, queue, new DiskBudget(Path.GetFullPath(options.DataDir), options.AsyncMaxDiskBytes, time));
        return new GatewayParts
        {
            Local = local,
            Metrics = metrics,
            Queue = queue,
            Dispatcher = dispatcher,
            Proxy = new FunctionProxy(registry, forwarder, checkedForwarder, metrics, time, loggers.CreateLogger<FunctionProxy>()),
            Accept = new AsyncAcceptHandler(options, registry, queue, dispatcher, new CallbackPolicy(options.CallbackAllowedHosts), spool, admissions, metrics,
                loggers.CreateLogger<AsyncAcceptHandler>()),
            Calls = new AsyncCallsEndpoints(queue, dispatcher, admissions, options),
            Listing = new AsyncCallListing(queue, dispatcher, admissions, new CallFilters(options, registry, time), options, loggers.CreateLogger<AsyncCallListing>()),
            System = new SystemEndpoints(options, local, queue),
            SystemApi = new SystemRoutes(options, new FunctionStatuses(options, registry, local, metrics, time.GetUtcNow()),
                new FunctionLogs(options, registry, local)),
            Console = new Ui.ConsoleEndpoints(options, registry, metrics, queue, dispatcher),
            Client = client,
            Callbacks = callbacks,
            Forwarder = forwarder,
            CheckedForwarder = checkedForwarder,
        };
    }

    private static IJobQueue OpenQueue(GatewayOptions options, TimeProvider time, ILoggerFactory loggers) => options.Queue == QueueKind.Nats
        ? new NatsJobQueue(options.Nats, options.DataDir, options.QueueLease, options.AsyncRetention, time, loggers.CreateLogger<NatsJobQueue>(), options.QueueFunctions)
        : new SqliteJobQueue(options.DataDir, options.QueueLease, options.CallbackTimeout, time, options.QueueFunctions);

    /// <summary>The queue, then the clients and their connection pools; the dispatcher and the web host are disposed before.</summary>
    public async ValueTask DisposeAsync()
    {
        await Queue.DisposeAsync();
        Client.Dispose();
        Callbacks.Dispose();
        Forwarder.Dispose();
        CheckedForwarder.Dispose();
    }
}
