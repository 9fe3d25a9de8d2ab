using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Fwatchdog.Forwarding;
using Fwatchdog.Gateway.Queue;
using Fwatchdog.Gateway.Reach;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Gateway.Async;

/// <summary>
/// POSTs a finished call's result to its X-Callback-Url, for failures too. Redirects are never
/// followed (a 3xx is recorded as a failed delivery: following one turns the POST into a GET and
/// drops the body, nats-queue-worker #102). Connection errors, timeouts, 408, 429 and 5xx are
/// retried with back-off up to callback_attempts. With a callback secret, X-Callback-Signature is
/// <c>sha256=hex(HMAC-SHA256(secret, timestamp + "." + call id + "." + body))</c>.
/// Every connection checks where the receiver's host resolves right then (DNS rebinding), unless
/// callback_allowed_hosts names it (<see cref="CallbackPolicy.IsListed"/>). The error kept for the
/// status API is generic ("no answer", "refused address", the receiver's status code): it would
/// otherwise tell a caller what listens where (a port scanner); the log has the details.
/// </summary>
internal sealed partial class CallbackSender : IDisposable
{
    private readonly GatewayOptions _options;
    private readonly IJobQueue _queue;
    private readonly RetryPolicy _backoff;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CallbackPolicy _policy;
    private readonly HttpMessageInvoker _http;

    public CallbackSender(GatewayOptions options, IJobQueue queue, TimeProvider time, ILogger<CallbackSender> logger)
    {
        _options = options;
        _queue = queue;
        _time = time;
        _logger = logger;
        _policy = new CallbackPolicy(options.CallbackAllowedHosts);
        _backoff = new RetryPolicy(new HashSet<int>(), options.InitialRetryWait, options.MaxRetryWait);
        _http = new HttpMessageInvoker(CreateHandler(_policy));
    }

    private static SocketsHttpHandler CreateHandler(CallbackPolicy policy) => new()
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        ActivityHeadersPropagator = null,

        // The result's Content-Type goes out byte for byte, UTF-8 included.
        RequestHeaderEncodingSelector = static (_, _) => Encoding.Latin1,
        ResponseHeaderEncodingSelector = static (_, _) => Encoding.Latin1,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var host = context.DnsEndPoint.Host;
            var socket = context.InitialRequestMessage.RequestUri is { } uri && policy.IsListed(uri)
                ? await TcpConnect.ConnectAsync(host, context.DnsEndPoint.Port, cancellationToken)
                : await CheckedConnect.ConnectAsync(host, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        },
    };

    public async Task DeliverAsync(CallbackWork work)
    {
        // A span in the call's trace, whichever gateway sends it and however late: the receiver joins the trace from the headers.
        using var span = Tracing.Spans.Start("callback", System.Diagnostics.ActivityKind.Client, work.Trace);
        span.Tag("fwatchdog.call_id", work.CallId);
        span.Tag("fwatchdog.callback_attempt", work.CallbackAttempt);
        var (state, status, error, detail) = await SendAsync(work, span.Context);
        span.Tag("http.response.status_code", status);
        if (error is not null)
        {
            span.Fail(error);
        }

        DateTimeOffset? retryAt = null;
        if (state == CallbackState.Pending)
        {
            if (work.CallbackAttempt >= _options.CallbackAttempts)
            {
                state = CallbackState.Failed;
                error = $"gave up after {work.CallbackAttempt} attempts; last: {error}";
            }
            else
            {
                retryAt = _time.GetUtcNow() + _backoff.Delay(work.CallbackAttempt, null, _time.GetUtcNow(), Random.Shared);
            }
        }

        LogCallback(_logger, work.CallId, work.Url.Host, QueueNames.Name(state), status ?? 0, work.CallbackAttempt, detail ?? error ?? "");
        await _queue.CallbackAttemptedAsync(work.CallId, state, status, error, retryAt, CancellationToken.None);
    }

    /// <returns>The state, the receiver's status, the error the status API shows and the details for the log.</returns>
    private async Task<(CallbackState State, int? Status, string? Error, string? Detail)> SendAsync(CallbackWork work, Tracing.TraceContext trace)
    {
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, work.Url);
        request.Content = new StreamContent(work.Result.Open(), 64 * 1024);
        request.Content.Headers.ContentLength = work.Result.Length;
        if (work.ContentType is { } contentType)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        var headers = request.Headers;
        headers.TryAddWithoutValidation(ProxyHeaders.CallId, work.CallId);

        // A receiver that is an /async-function/ of a gateway starts a new call linked to this one,
        // once: a callback delivered twice (an answer lost on the way) replays the first one.
        headers.TryAddWithoutValidation(ProxyHeaders.ParentCallId, work.CallId);
        headers.TryAddWithoutValidation(AsyncAcceptHandler.IdempotencyHeader, work.CallId + ".callback");
        headers.TryAddWithoutValidation("X-Function-Name", work.Function);
        headers.TryAddWithoutValidation("X-Function-Status", work.StatusCode.ToString(CultureInfo.InvariantCulture));
        headers.TryAddWithoutValidation("X-Duration-Seconds", work.Duration.TotalSeconds.ToString("0.000000", CultureInfo.InvariantCulture));
        headers.TryAddWithoutValidation("X-Job-State", QueueNames.Name(work.State));
        headers.TryAddWithoutValidation("X-Attempts", work.Attempts.ToString(CultureInfo.InvariantCulture));
        headers.TryAddWithoutValidation("X-Max-Attempts", work.MaxAttempts.ToString(CultureInfo.InvariantCulture));
        headers.TryAddWithoutValidation("X-Callback-Attempt", work.CallbackAttempt.ToString(CultureInfo.InvariantCulture));
        headers.TryAddWithoutValidation("User-Agent", "fwatchdog-gateway");
        foreach (var (name, value) in trace.Headers())
        {
            headers.TryAddWithoutValidation(name, value);
        }

        if (_options.CallbackSecret is { } secret)
        {
            headers.TryAddWithoutValidation("X-Callback-Timestamp", timestamp);
            headers.TryAddWithoutValidation("X-Callback-Signature", "sha256=" + await SignAsync(secret, timestamp, work));
        }

        using var timeout = new CancellationTokenSource(_options.CallbackTimeout);
        try
        {
            using var response = await _http.SendAsync(request, timeout.Token);
            var status = (int)response.StatusCode;
            return status switch
            {
                >= 200 and < 300 => (CallbackState.Delivered, status, null, null),
                >= 300 and < 400 => (CallbackState.Failed, status, $"not delivered: the receiver answered {status}; redirects are not followed",
                    $"the receiver redirected to {response.Headers.Location}; redirects are not followed"),
                408 or 429 or >= 500 => (CallbackState.Pending, status, $"not delivered: the receiver answered {status}", null),
                _ => (CallbackState.Failed, status, $"not delivered: the receiver answered {status}", null),
            };
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            // A refused address fails at once: retrying cannot help and would only knock again.
            var detail = e is OperationCanceledException ? $"no answer within callback_timeout ({Configuration.DurationParser.Format(_options.CallbackTimeout)})" : e.Message;
            return Refusal(e) is { } refused
                ? (CallbackState.Failed, null, "not delivered: refused address (see callback_allowed_hosts)", refused.Message)
                : (CallbackState.Pending, null, "not delivered: no answer (could not connect, or nothing within callback_timeout)", detail);
        }
    }

    private static AddressRefusedException? Refusal(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is AddressRefusedException refused)
            {
                return refused;
            }
        }

        return null;
    }

    internal static async Task<string> SignAsync(byte[] secret, string timestamp, CallbackWork work)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
        hmac.AppendData(Encoding.UTF8.GetBytes(timestamp + "." + work.CallId + "."));
        await using var body = work.Result.Open();
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            hmac.AppendData(buffer, 0, read);
        }

        return Convert.ToHexStringLower(hmac.GetHashAndReset());
    }

    public void Dispose() => _http.Dispose();

    [LoggerMessage(EventId = 800, Level = LogLevel.Information, Message = "Callback for {CallId} to {Host}: {State} (status {Status}, attempt {Attempt}) {Error}")]
    private static partial void LogCallback(ILogger logger, string callId, string host, string state, int status, int attempt, string error);
}
