using Fwatchdog.Configuration;
using Fwatchdog.Forwarding;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Fwatchdog.Server.HttpMode;

/// <summary>
/// The one place mode=http touches the HTTP/1.1 forwarder it shares with the gateway (full
/// duplex, pooled connections, hop-by-hop headers dropped both ways). It turns the forwarder's
/// <see cref="ForwarderError"/> into the watchdog's own <see cref="UpstreamOutcome"/>, so a
/// change of the forwarder's API is mended here and nowhere else.
/// </summary>
internal sealed class UpstreamProxy(WatchdogOptions options) : IDisposable
{
    /// <summary>Written by <see cref="HttpModeHandler"/>'s header lines, never copied: X-Start-Time is passed on from there.</summary>
    private static readonly HashSet<string> OwnHeaders = new(StringComparer.OrdinalIgnoreCase) { WatchdogHeaders.CallId, WatchdogHeaders.StartTime, ForwardedHeaders.For };

    private readonly Http1Forwarder _forwarder = new(TimeProvider.System, Streaming.SpoolLimits.InTempFolder(options.MaxSpoolBytes), OwnHeaders);
    private readonly Uri _upstream = options.UpstreamUrl ?? throw new InvalidOperationException("mode=http needs http_upstream_url");

    /// <summary>
    /// Streams the request to the upstream and its answer into the response. Returns the outcome
    /// when no answer started (Unreachable, or Cancelled when <paramref name="cancellationToken"/>
    /// fired first); once the answer has started, a failure throws (the caller aborts the connection).
    /// </summary>
    /// <param name="headerLines">Extra request header lines, each ending in CRLF (X-Call-Id, X-Forwarded-*).</param>
    public async Task<(UpstreamOutcome Outcome, string Detail)> ForwardAsync(HttpContext context, string headerLines, CancellationToken cancellationToken)
    {
        // The function sees the caller's Host, as behind the of-watchdog (virtual hosts, absolute
        // redirects); X-Forwarded-Host carries it too.
        var host = context.Request.Host is { HasValue: true } given ? given.Value : null;
        var result = await _forwarder.ForwardAsync(context, _upstream, PathAndQuery(context), headerLines, cancellationToken, host);
        return result.Error switch
        {
            ForwarderError.None => (UpstreamOutcome.Answered, ""),
            ForwarderError.Cancelled => (UpstreamOutcome.Cancelled, result.Detail),
            ForwarderError.RequestBodyMalformed => (UpstreamOutcome.BadRequestBody, result.Detail),
            ForwarderError.RequestBodyTooLarge => (UpstreamOutcome.BodyTooLarge, result.Detail),
            _ => (UpstreamOutcome.Unreachable, result.Detail),
        };
    }

    /// <summary>Path and query exactly as the client sent them (raw, still percent-encoded), like the of-watchdog's RequestURI.</summary>
    private static string PathAndQuery(HttpContext context) =>
        context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw && raw[0] == '/'
            ? raw
            : context.Request.PathBase + context.Request.Path + context.Request.QueryString;

    public void Dispose() => _forwarder.Dispose();
}
