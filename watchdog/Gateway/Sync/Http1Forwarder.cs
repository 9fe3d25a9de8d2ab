using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Fwatchdog.Gateway.Sync;

/// <summary>
/// Forwards one sync call to a function over pooled HTTP/1.1 connections, full duplex: the
/// request body is pumped to the function while its response is already streaming back. A
/// function that answers while it still reads (cat, gzip, any filter) cannot stall the call,
/// whatever the body size. Hop-by-hop headers are dropped both ways; a stale pooled connection
/// that fails before any byte of the answer is retried once on a new one when that is safe.
/// </summary>
internal sealed partial class Http1Forwarder : IDisposable
{
    private static readonly TimeSpan IdleLimit = TimeSpan.FromSeconds(50);
    private readonly ConcurrentDictionary<(string Host, int Port), ConcurrentBag<Http1Connection>> _idle = new();
    private readonly TimeProvider _time;

    public Http1Forwarder(TimeProvider time)
    {
        _time = time;
    }

    /// <summary>
    /// Sends the request and copies the answer into <paramref name="context"/>'s response. Returns
    /// the status sent, or the gateway failure when none could be (the caller writes it if the
    /// response has not started).
    /// </summary>
    public async Task<(int Status, GatewayFailure Failure, string Detail)> ForwardAsync(
        HttpContext context, Uri baseUri, string pathAndQuery, string head, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var hasBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? request.ContentLength > 0;
        var small = hasBody && request.ContentLength is <= 16 * 1024 ? await ReadSmallBodyAsync(request, cancellationToken) : null;
        var headBytes = BuildHead(context, baseUri, pathAndQuery, head, hasBody, small);
        var key = (baseUri.IdnHost, baseUri.Port);
        for (var attempt = 0; ; attempt++)
        {
            Http1Connection connection;
            try
            {
                connection = attempt == 0 && Rent(key) is { } pooled ? pooled : await Http1Connection.ConnectAsync(key.IdnHost, key.Port, cancellationToken);
            }
            catch (SocketException e)
            {
                return (0, GatewayFailures.FromConnectError(e), $"cannot connect to {key.IdnHost}:{key.Port}: {e.Message}");
            }

            var reusable = false;
            var pump = Task.CompletedTask;
            try
            {
                await connection.Stream.WriteAsync(headBytes, cancellationToken);
                if (hasBody && small is null)
                {
                    pump = PumpBodyAsync(request.Body, connection.Stream, request.ContentLength, cancellationToken);
                }

                var responseHead = await connection.ReadHeadAsync(cancellationToken);
                if (responseHead is null)
                {
                    throw new IOException("the function closed the connection without answering");
                }

                context.Response.StatusCode = responseHead.Status;
                CopyHeaders(responseHead, context.Response);
                var bodyless = HttpMethods.IsHead(request.Method) || responseHead.Status is 204 or 304;
                if (!bodyless)
                {
                    await CopyBodyAsync(connection, responseHead, context.Response.Body, cancellationToken);
                }

                // A function may answer without reading all of the body: then the connection is done for.
                reusable = pump.IsCompleted && await ObserveAsync(pump) && !responseHead.Close
                    && (bodyless || responseHead.Chunked || responseHead.ContentLength is not null) && connection.IsDrained;
                return (responseHead.Status, GatewayFailure.None, "");
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException && !context.Response.HasStarted)
            {
                if (connection.Reused && attempt == 0 && !cancellationToken.IsCancellationRequested && (small is not null || !hasBody))
                {
                    // A stale pooled connection, and nothing of the caller's body is lost: once more on a new one.
                    continue;
                }

                return (0, cancellationToken.IsCancellationRequested ? GatewayFailure.UpstreamTimeout : GatewayFailure.FunctionUnreachable,
                    $"the call to {key.IdnHost}:{key.Port} failed: {e.Message}");
            }
            finally
            {
                if (reusable)
                {
                    Return(key, connection);
                }
                else
                {
                    connection.Dispose();
                    await ObserveAsync(pump);
                }
            }
        }
    }

    /// <summary>Waits for the body pump; false when it failed (its error is the response's business, not ours).</summary>
    private static async Task<bool> ObserveAsync(Task pump)
    {
        try
        {
            await pump;
            return true;
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
    }

    private static async Task<byte[]> ReadSmallBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var body = new byte[(int)(request.ContentLength ?? 0)];
        await request.Body.ReadExactlyAsync(body, cancellationToken);
        return body;
    }

    private static byte[] BuildHead(HttpContext context, Uri baseUri, string pathAndQuery, string extraHeaders, bool hasBody, byte[]? small)
    {
        var request = context.Request;
        var root = baseUri.AbsolutePath.TrimEnd('/');
        var text = new StringBuilder(512)
            .Append(request.Method).Append(' ').Append(root).Append(pathAndQuery).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(baseUri.Authority).Append("\r\n");
        var connection = request.Headers.Connection;
        foreach (var (name, values) in request.Headers)
        {
            if (ProxyHeaders.IsHopByHop(name, connection) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || ProxyHeaders.IsSetByGateway(name))
            {
                continue;
            }

            foreach (var value in values)
            {
                text.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }

        text.Append(extraHeaders);
        if (small is not null || request.ContentLength is not null)
        {
            text.Append("Content-Length: ").Append((small?.Length ?? request.ContentLength ?? 0).ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        }
        else if (hasBody)
        {
            text.Append("Transfer-Encoding: chunked\r\n");
        }
        else if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            text.Append("Content-Length: 0\r\n");
        }

        text.Append("\r\n");
        var head = Encoding.Latin1.GetBytes(text.ToString());
        return small is null ? head : [.. head, .. small];
    }

    private static void CopyHeaders(Http1ResponseHead head, HttpResponse response)
    {
        string[] connection = [];
        foreach (var (name, value) in head.Headers)
        {
            if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                connection = [.. connection, value];
            }
        }

        foreach (var (name, value) in head.Headers)
        {
            if (ProxyHeaders.IsHopByHop(name, connection) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || ProxyHeaders.IsSetByGateway(name))
            {
                continue;
            }

            // Repeated headers (Set-Cookie) keep every value.
            response.Headers.Append(name, value);
        }

        if (head.ContentLength is { } length)
        {
            response.ContentLength = length;
        }
    }

}
