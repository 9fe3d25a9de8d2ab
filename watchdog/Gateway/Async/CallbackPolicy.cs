using Fwatchdog.Gateway.Reach;

namespace Fwatchdog.Gateway.Async;

/// <summary>
/// Checks X-Callback-Url before a job is accepted: absolute http(s), and when
/// <c>callback_allowed_hosts</c> is set, a host on that list (<c>*.example.com</c> covers
/// subdomains). The gateway would otherwise POST results anywhere it can reach (SSRF). A host not
/// listed by name may not resolve to a refused address (<see cref="RefusedAddresses"/>: the
/// gateway's own host, link-local and cloud metadata, multicast, broadcast); that is checked here
/// and again when the callback connects (<see cref="CallbackSender"/>).
/// </summary>
internal sealed class CallbackPolicy(IReadOnlyList<string> allowedHosts)
{
    public (Uri? Url, GatewayFailure Failure, string Detail) Check(string? header)
    {
        if (string.IsNullOrEmpty(header))
        {
            return (null, GatewayFailure.None, "");
        }

        if (!Uri.TryCreate(header, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.Host.Length == 0 || url.UserInfo.Length > 0)
        {
            return (null, GatewayFailure.CallbackUrlInvalid,
                $"X-Callback-Url \"{header}\" is not an absolute http:// or https:// URL without credentials; use e.g. http://receiver:9000/done");
        }

        if (allowedHosts.Count > 0 && !allowedHosts.Any(allowed => Matches(allowed, url.IdnHost, url.Port)))
        {
            return (null, GatewayFailure.CallbackHostNotAllowed,
                $"X-Callback-Url host \"{url.Host}\" is not in callback_allowed_hosts ({string.Join(",", allowedHosts)})");
        }

        return (url, GatewayFailure.None, "");
    }

    /// <summary><see cref="Check"/>, then where the host resolves now (a name that does not resolve yet is accepted).</summary>
    public async Task<(Uri? Url, GatewayFailure Failure, string Detail)> CheckAsync(string? header, CancellationToken cancellationToken)
    {
        var checkedUrl = Check(header);
        if (checkedUrl.Url is not { } url || IsListed(url) || !await CheckedConnect.IsRefusedAsync(url.IdnHost, cancellationToken))
        {
            return checkedUrl;
        }

        return (null, GatewayFailure.CallbackHostNotAllowed,
            $"X-Callback-Url host \"{url.Host}\" is a loopback, link-local, unspecified, multicast or broadcast address, or resolves to one; "
            + $"the gateway calls back there only when callback_allowed_hosts names the host, e.g. callback_allowed_hosts={url.Host}:{url.Port}");
    }

    /// <summary>
    /// Whether the operator named this host itself in callback_allowed_hosts (not through a
    /// *.domain pattern): then it is called back whatever it resolves to, on the port the entry
    /// names (<c>127.0.0.1:8080</c>) or, for an entry without one, on any port.
    /// </summary>
    public bool IsListed(Uri url) =>
        allowedHosts.Any(allowed => !allowed.StartsWith("*.", StringComparison.Ordinal) && Matches(allowed, url.IdnHost, url.Port));

    /// <summary>
    /// Whether an entry of callback_allowed_hosts covers <paramref name="host"/> and <paramref name="port"/>:
    /// <c>host</c> (any port), <c>host:port</c>, <c>[v6]</c> or <c>[v6]:port</c>, and <c>*.domain</c> for its subdomains.
    /// </summary>
    internal static bool Matches(string allowed, string host, int port)
    {
        var (allowedHost, allowedPort) = Split(allowed);
        if (allowedPort is { } only && only != port)
        {
            return false;
        }

        host = host.Trim('[', ']');
        return allowedHost.StartsWith("*.", StringComparison.Ordinal)
            ? host.EndsWith(allowedHost[1..], StringComparison.OrdinalIgnoreCase) && host.Length > allowedHost.Length - 1
            : string.Equals(allowedHost, host, StringComparison.OrdinalIgnoreCase);
    }

    private static (string Host, int? Port) Split(string allowed)
    {
        if (allowed.StartsWith('['))
        {
            var end = allowed.IndexOf(']', StringComparison.Ordinal);
            var v6 = end < 0 ? allowed[1..] : allowed[1..end];
            return end >= 0 && allowed.Length > end + 2 && allowed[end + 1] == ':' && int.TryParse(allowed[(end + 2)..], out var v6Port) ? (v6, v6Port) : (v6, null);
        }

        var colon = allowed.LastIndexOf(':');
        return colon > 0 && allowed.IndexOf(':', StringComparison.Ordinal) == colon && int.TryParse(allowed[(colon + 1)..], out var port)
            ? (allowed[..colon], port)
            : (allowed, null);
    }
}
