using System.Diagnostics;
using System.Net.Sockets;
using Fwatchdog.Gateway.Functions;

namespace Fwatchdog.Gateway;

/// <summary>
/// How the gateway calls a function for a queued call: a pooled <see cref="SocketsHttpHandler"/>
/// (no proxy, no redirects, no decompression, no cookies), a per-call deadline, and failures
/// sorted into <see cref="GatewayFailure"/>s. A stored body needs no full duplex; sync calls
/// stream both ways at once, so they go through <see cref="Sync.FunctionProxy"/> and the HTTP/1.1 forwarder instead.
/// </summary>
internal sealed class FunctionClient : IDisposable
{
    private readonly HttpMessageInvoker _invoker;
    private readonly HttpMessageInvoker _checked;
    private readonly GatewayMetrics _metrics;

    public FunctionClient(GatewayMetrics metrics)
    {
        _metrics = metrics;
        _invoker = new HttpMessageInvoker(CreateHandler());

        // Hosts that callers' names chose (upstream_template): every new connection checks where the name resolves.
        var checkedHandler = CreateHandler();
        checkedHandler.ConnectCallback = async (context, cancellationToken) =>
            new NetworkStream(await Reach.CheckedConnect.ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, cancellationToken), ownsSocket: true);
        _checked = new HttpMessageInvoker(checkedHandler);
    }

    private static SocketsHttpHandler CreateHandler() =>
        new()
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            // Shorter than the watchdog's keep-alive, so we drop idle connections before it does
            // (the stale pooled connection trap).
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            MaxConnectionsPerServer = int.MaxValue,
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = null,

            // Header values are bytes: stored and replayed as Latin-1 chars, sent and read back
            // unchanged, so UTF-8 survives the async store.
            RequestHeaderEncodingSelector = static (_, _) => System.Text.Encoding.Latin1,
            ResponseHeaderEncodingSelector = static (_, _) => System.Text.Encoding.Latin1,
        };

    /// <summary>
    /// Sends <paramref name="request"/> to <paramref name="target"/> and returns once the response
    /// headers arrived (the body is read through the returned call, under the same deadline).
    /// </summary>
    public async Task<UpstreamCall> SendAsync(FunctionTarget target, HttpRequestMessage request, CancellationToken callerGone)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(callerGone);
        deadline.CancelAfter(target.Timeout);
        var clock = Stopwatch.StartNew();
        _metrics.Started(target.Name);
        try
        {
            var response = await (target.CheckAddress ? _checked : _invoker).SendAsync(request, deadline.Token);
            return new UpstreamCall(target, response, GatewayFailure.None, "", deadline, clock, _metrics, callerGone);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            var failure = Classify(e, callerGone);
            var detail = failure switch
            {
                GatewayFailure.UpstreamTimeout => $"function {target.Name} did not answer within {Configuration.DurationParser.Format(target.Timeout)}",
                GatewayFailure.FunctionNotFound => $"function {target.Name}: host {request.RequestUri?.Host} does not resolve",
                GatewayFailure.ClientGone => "the caller went away",
                _ => $"function {target.Name} is unreachable: {e.Message}",
            };
            return new UpstreamCall(target, null, failure, detail, deadline, clock, _metrics, callerGone);
        }
    }

    private static GatewayFailure Classify(Exception e, CancellationToken callerGone)
    {
        if (e is OperationCanceledException)
        {
            return callerGone.IsCancellationRequested ? GatewayFailure.ClientGone : GatewayFailure.UpstreamTimeout;
        }

        return GatewayFailures.FromConnectError(e.InnerException as SocketException);
    }

    public void Dispose()
    {
        _invoker.Dispose();
        _checked.Dispose();
    }
}
