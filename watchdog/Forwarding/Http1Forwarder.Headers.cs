using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Fwatchdog.Forwarding;

/// <summary>Headers: the request head written for the upstream, the answer's headers copied back, and what crosses in each direction.</summary>
internal sealed partial class Http1Forwarder
{
    /// <summary>Forgets the status and headers taken from a response that then failed, so the caller can write its own.</summary>
    private void ResetResponse(HttpResponse response, Http1ResponseHead? head)
    {
        foreach (var (name, _) in head?.Headers ?? [])
        {
            if (!_ownHeaders.Contains(name))
            {
                response.Headers.Remove(name);
            }
        }

        response.ContentLength = null;
        response.StatusCode = StatusCodes.Status200OK;
    }

    private byte[] BuildHead(HttpContext context, Uri baseUri, string host, string pathAndQuery, string extraHeaders, bool hasBody, byte[]? small)
    {
        var request = context.Request;
        var root = baseUri.AbsolutePath.TrimEnd('/');
        var text = new StringBuilder(512)
            .Append(request.Method).Append(' ').Append(root).Append(pathAndQuery).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(host).Append("\r\n");
        var connection = request.Headers.Connection;
        foreach (var (name, values) in request.Headers)
        {
            // The caller's trace context is never copied: each app sends its own span's, with what
            // was valid of the caller's, in its extra header lines.
            if (!Crosses(name, connection) || Tracing.TraceHeaders.IsTraceHeader(name))
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

    private void CopyHeaders(Http1ResponseHead head, HttpResponse response, bool bodyless)
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
            if (!Crosses(name, connection))
            {
                continue;
            }

            try
            {
                // Repeated headers (Set-Cookie) keep every value.
                response.Headers.Append(name, value);
            }
            catch (InvalidOperationException e)
            {
                // A server that writes header values as ASCII only (no ByteTransparentHeaders) cannot pass it on.
                throw new Http1ResponseException($"the upstream sent a header that cannot be passed on ({name}): {e.Message}");
            }
        }

        // 204 and 304 carry no framing to the caller; a HEAD answer keeps the length it announces.
        if (head.ContentLength is { } length && !(bodyless && head.Status is 204 or 304))
        {
            response.ContentLength = length;
        }
    }

    /// <summary>Whether a header goes across: not hop-by-hop, not framing (each side frames its own message), not one the app writes itself.</summary>
    private bool Crosses(string name, StringValues connection) =>
        !HopByHopHeaders.IsHopByHop(name, connection) && !name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && !_ownHeaders.Contains(name);
}
