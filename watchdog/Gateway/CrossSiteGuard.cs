using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Gateway;

/// <summary>
/// Refuses a state-changing operator request that a browser sent on another site's behalf. An
/// operator's browser carries the gateway's basic_auth credentials to every request it makes to
/// the gateway, whichever page asks; so a request whose <c>Sec-Fetch-Site</c> says another site
/// made it, or whose <c>Origin</c> is present and not the gateway's own, is 403. Scripts (curl,
/// SDKs) send neither header and are not affected.
/// </summary>
internal static class CrossSiteGuard
{
    /// <summary>True (and the 403 written) when the request came from another site's page.</summary>
    public static async Task<bool> RefusedAsync(HttpContext context)
    {
        var request = context.Request;
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        string? reason = null;
        if (site is "cross-site" or "same-site")
        {
            reason = $"refused: the browser says another site's page sent this (Sec-Fetch-Site: {site}); replay and cancel calls from the gateway's console at /ui/, or from a script";
        }
        else if (request.Headers.Origin.ToString() is { Length: > 0 } origin && !IsOwn(origin, request))
        {
            reason = $"refused: Origin {origin} is not this gateway ({request.Host}); replay and cancel calls from the gateway's console at /ui/, or from a script";
        }

        if (reason is null)
        {
            return false;
        }

        await GatewayFailures.WriteAsync(context, GatewayFailure.CrossSiteRequest, reason);
        return true;
    }

    /// <summary>
    /// The Origin names the host and port the request was sent to (the Host header). The scheme
    /// is not compared: behind a proxy that ends TLS the gateway sees http for an https page. A
    /// Host without a port matches the Origin's default port only.
    /// </summary>
    private static bool IsOwn(string origin, HttpRequest request) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && uri.Scheme is "http" or "https"
        && request.Host.HasValue
        && string.Equals(uri.Host, request.Host.Host, StringComparison.OrdinalIgnoreCase)
        && uri.Port == (request.Host.Port ?? (uri.IsDefaultPort ? uri.Port : -1));
}
