namespace Fwatchdog.Gateway.Async;

/// <summary>
/// Checks X-Callback-Url before a job is accepted: absolute http(s), and when
/// <c>callback_allowed_hosts</c> is set, a host on that list (<c>*.example.com</c> covers
/// subdomains). The gateway would otherwise POST results anywhere it can reach (SSRF).
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

        if (allowedHosts.Count > 0 && !allowedHosts.Any(allowed => Matches(allowed, url.IdnHost)))
        {
            return (null, GatewayFailure.CallbackHostNotAllowed,
                $"X-Callback-Url host \"{url.Host}\" is not in callback_allowed_hosts ({string.Join(",", allowedHosts)})");
        }

        return (url, GatewayFailure.None, "");
    }

    internal static bool Matches(string allowed, string host) =>
        allowed.StartsWith("*.", StringComparison.Ordinal)
            ? host.EndsWith(allowed[1..], StringComparison.OrdinalIgnoreCase) && host.Length > allowed.Length - 1
            : string.Equals(allowed, host, StringComparison.OrdinalIgnoreCase);
}
