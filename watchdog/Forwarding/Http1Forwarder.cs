using System.Collections.Concurrent;
using System.Net.Sockets;
using Fwatchdog.Streaming;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Fwatchdog.Forwarding;

/// <summary>
/// Forwards one call to an upstream over pooled HTTP/1.1 connections, full duplex: the request
/// body is pumped out while the response is already streaming back, so a function that answers
/// while it still reads (cat, gzip, any filter) cannot stall the call, whatever the body size.
/// It holds itself to RFC 9112 as a client: responses are parsed strictly and refused
/// when anything would need a guess; a connection is reused only when its last response was
/// completely and unambiguously framed and nothing else is readable on its socket (watched while
/// it is idle, which closes it at the first byte nobody asked for or at the upstream's close, and
/// checked again on every reuse); a request is retried (once, on a new connection) only when no byte of it can
/// have reached the upstream; hop-by-hop and framing headers never cross in either direction.
/// The answer goes through a <see cref="ResponseSpool"/>, so a caller that sends its whole body
/// before it reads cannot stall an upstream that answers while it reads; an answer that comes
/// before the caller's body has ended is sent whole, and the rest of the body is read and thrown
/// away so that such a caller gets it.
/// Nothing here knows about functions, the gateway or the watchdog: what an app writes itself
/// comes in as its own headers, and each app maps a <see cref="ForwarderError"/> to its own failures.
/// </summary>
internal sealed partial class Http1Forwarder : IDisposable
{
    private static readonly TimeSpan IdleLimit = TimeSpan.FromSeconds(50);
    private readonly ConcurrentDictionary<(string Host, int Port), IdleConnections> _idle = new();
    private readonly TimeProvider _time;
    private readonly SpoolLimits _spool;
    private readonly IReadOnlySet<string> _ownHeaders;
    private readonly Func<string, int, CancellationToken, ValueTask<Socket>>? _connect;

    /// <param name="ownHeaders">Headers the app writes itself, in both directions (a call id, X-Forwarded-For):
    /// never copied from the caller's request or the upstream's response, and kept when a failed answer is reset.</param>
    /// <param name="connect">Opens a new connection to (host, port) instead of a plain connect,
    /// e.g. one that checks the addresses the host resolves to; its SocketException is a connect failure
    /// (<see cref="ForwarderError.ConnectFailed"/>, with the exception in <see cref="ForwardResult.ConnectError"/>).</param>
    public Http1Forwarder(TimeProvider time, SpoolLimits spool, IReadOnlySet<string> ownHeaders, Func<string, int, CancellationToken, ValueTask<Socket>>? connect = null)
    {
        _time = time;
        _spool = spool;
        _ownHeaders = ownHeaders;
        _connect = connect;
    }

    /// <summary>
    /// Sends the request and copies the answer into <paramref name="context"/>'s response. Returns
    /// the status sent, or the <see cref="ForwarderError"/> when none could be (the caller writes
    /// its own answer; the response has not started). Once the response has started, a failure
    /// throws (<see cref="IOException"/>, <see cref="OperationCanceledException"/>) and the caller aborts.
    /// </summary>
    /// <param name="head">Extra request header lines, each ending in CRLF; the trace context (traceparent, tracestate, baggage) comes only from here.</param>
    /// <param name="host">The Host header to send; the upstream's own authority when null.</param>
    public async Task<ForwardResult> ForwardAsync(
        HttpContext context, Uri baseUri, string pathAndQuery, string head, CancellationToken cancellationToken, string? host = null)
    {
        var request = context.Request;
        var hasBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? request.ContentLength > 0;
        var small = hasBody && request.ContentLength is <= 16 * 1024 ? await ReadSmallBodyAsync(request, cancellationToken) : null;
        await using var spool = new ResponseSpool(context.Response.BodyWriter, _spool, cancellationToken);
        if (!hasBody || small is not null)
        {
            spool.EndOfInput();
        }

        // A streamed body is read while the answer is awaited: if it breaks HTTP/1.1, the wait ends.
        using var body = hasBody && small is null ? new CallerBody(cancellationToken) : null;
        var call = new Call(context, BuildHead(context, baseUri, host ?? baseUri.Authority, pathAndQuery, head, hasBody, small),
            (baseUri.IdnHost, baseUri.Port), spool, body, cancellationToken);
        for (var attempt = 0; ; attempt++)
        {
            Http1Connection connection;
            try
            {
                connection = await RentOrConnectAsync(call.Key, attempt == 0, cancellationToken);
            }
            catch (SocketException e)
            {
                return ForwardResult.Failed(ForwarderError.ConnectFailed, $"cannot connect to {call.Key.Host}:{call.Key.Port}: {e.Message}", e);
            }

            if (await ExchangeAsync(call, connection, attempt == 0) is { } result)
            {
                return result;
            }
        }
    }

    /// <summary>
    /// One try on one connection: sends the request, copies the answer, and gives the connection
    /// back to the pool when its framing allows. Null when the request may be sent again on a new
    /// connection because not a byte of it left.
    /// </summary>
    private async Task<ForwardResult?> ExchangeAsync(Call call, Http1Connection connection, bool firstAttempt)
    {
        var response = call.Context.Response;
        var reusable = false;
        var finished = false;
        var pump = BodyPump.None;
        Http1ResponseHead? head = null;
        try
        {
            if (!await TrySendHeadAsync(call, connection, firstAttempt))
            {
                return null;
            }

            pump = BodyPump.Start(call.Context.Request, connection.Stream, call.Spool, call.Body, call.Deadline);

            // From here on the upstream may have seen the request: no retry, whatever happens.
            head = await ReadResponseHeadAsync(connection, call);
            await CopyResponseAsync(call, connection, head);
            await pump.StopSendingAsync();

            // The answer is whole (a chunked one with its last chunk) before the rest of the
            // caller's body is read: a caller may wait for it before it sends more, or stop.
            await call.Spool.CompleteAsync(call.Deadline);
            await response.CompleteAsync();
            finished = true;
            reusable = IsReusable(call.Context.Request, connection, head, pump);
            return ForwardResult.Answered(head.Status);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException && !response.HasStarted)
        {
            finished = true;
            ResetResponse(response, head);
            return Failure(call, e);
        }
        finally
        {
            Release(call.Key, connection, reusable, pump);
            if (!finished && response.HasStarted)
            {
                call.Context.Abort(); // a broken answer: the caller's body is not worth reading
            }

            // The pump reads what is left of the caller's body (never cancelled half-way, or
            // the server could not drain it): a caller that sends before it reads gets the answer.
            await pump.DisposeAsync();
        }
    }

    private async Task<Http1Connection> RentOrConnectAsync((string Host, int Port) key, bool mayReuse, CancellationToken cancellationToken) =>
        mayReuse && Rent(key) is { } pooled ? pooled : await Http1Connection.ConnectAsync(key.Host, key.Port, _connect, cancellationToken);

    /// <summary>Writes the request head (and a small body with it); false when a pooled connection died before a byte of it left.</summary>
    private static async Task<bool> TrySendHeadAsync(Call call, Http1Connection connection, bool firstAttempt)
    {
        try
        {
            await connection.Stream.WriteAsync(call.Head, call.Deadline);
            return true;
        }
        catch (Exception e) when (e is IOException or SocketException && connection.Reused && firstAttempt && connection.FailedWriteSentNothing(call.Head.Length))
        {
            // The pooled connection died between the reuse check and the write, and not a
            // byte of the request left (Go's nothingWrittenError): safe to send it again,
            // whatever the method, since the caller's body has not been read yet.
            return false;
        }
    }

    /// <summary>The final response head; a 204 with Transfer-Encoding is refused, and so is no answer at all.</summary>
    private static async Task<Http1ResponseHead> ReadResponseHeadAsync(Http1Connection connection, Call call)
    {
        var head = await connection.ReadHeadAsync(call.Reading)
            ?? throw new IOException("the upstream closed the connection without answering");
        if (head.Status == 204 && head.Framing == Http1Framing.Chunked && !HttpMethods.IsHead(call.Context.Request.Method))
        {
            throw new Http1ResponseException("the upstream sent Transfer-Encoding with 204 No Content");
        }

        return head;
    }

    /// <summary>Status, headers and (unless the method or status has none) the body, into the caller's response.</summary>
    private async Task CopyResponseAsync(Call call, Http1Connection connection, Http1ResponseHead head)
    {
        var response = call.Context.Response;
        var bodyless = IsBodyless(call.Context.Request, head);
        response.StatusCode = head.Status;
        CopyHeaders(head, response, bodyless);
        if (!bodyless)
        {
            await CopyBodyAsync(connection, head, new BodySink(response, call.Spool), call.Reading);
        }
    }

    private static bool IsBodyless(HttpRequest request, Http1ResponseHead head) =>
        HttpMethods.IsHead(request.Method) || head.Status is 204 or 304;

    /// <summary>
    /// Reuse needs the whole request sent, an unambiguous end of the response and nothing after it
    /// (a 204 or HEAD answer followed by bytes is not reused).
    /// </summary>
    private static bool IsReusable(HttpRequest request, Http1Connection connection, Http1ResponseHead head, BodyPump pump) =>
        pump.SentWholeBody && !head.Close && !head.Http10
        && (IsBodyless(request, head) || head.Framing != Http1Framing.UntilClose) && connection.IsDrained;

    /// <summary>Why no answer could be sent: the caller's body, the deadline, a broken response, or a connection that broke first.</summary>
    private static ForwardResult Failure(Call call, Exception e)
    {
        if (call.Body?.Error is { } refused)
        {
            // The caller's fault, not the upstream's: it hears why, with Kestrel's status (400, or 413 past a size limit).
            return ForwardResult.Failed(call.Body.Status == StatusCodes.Status413PayloadTooLarge ? ForwarderError.RequestBodyTooLarge : ForwarderError.RequestBodyMalformed,
                $"the request body was refused: {refused.Message}");
        }

        var error = call.Deadline.IsCancellationRequested ? ForwarderError.Cancelled
            : e is Http1ResponseException ? ForwarderError.BadResponse : ForwarderError.NoResponse;
        return ForwardResult.Failed(error, $"the call to {call.Key.Host}:{call.Key.Port} failed: {e.Message}");
    }

    /// <summary>Gives a cleanly ended connection back to the pool; any other is closed, and a body still being sent to it stops.</summary>
    private void Release((string Host, int Port) key, Http1Connection connection, bool reusable, BodyPump pump)
    {
        if (reusable)
        {
            Return(key, connection);
            return;
        }

        pump.StopSending();
        connection.Dispose();
    }

    /// <summary>One forwarded call: what every try sends and where the answer goes.</summary>
    /// <param name="Head">The request head, with a small body after it.</param>
    /// <param name="Body">The caller's streamed body; null when it was small or there is none.</param>
    /// <param name="Deadline">The call's token: the caller's deadline, the caller leaving.</param>
    private sealed record Call(HttpContext Context, byte[] Head, (string Host, int Port) Key, ResponseSpool Spool, CallerBody? Body, CancellationToken Deadline)
    {
        /// <summary>What reads from the upstream wait on: the deadline, and a refused caller's body.</summary>
        public CancellationToken Reading => Body?.Token ?? Deadline;
    }

    private static async Task<byte[]> ReadSmallBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var body = new byte[(int)(request.ContentLength ?? 0)];
        await request.Body.ReadExactlyAsync(body, cancellationToken);
        return body;
    }
}
