using System.Text;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Forwarding;

/// <summary>
/// The <c>X-Forwarded-*</c> headers a proxy adds on the way in, the same for the gateway and
/// mode=http. A forwarder that uses them must not also copy the caller's <see cref="For"/>: name
/// it among the headers it writes itself.
/// </summary>
internal static class ForwardedHeaders
{
    public const string For = "X-Forwarded-For";

    /// <summary>
    /// Appends, as header lines: <c>X-Forwarded-For</c>, the chain the caller sent (empty values
    /// dropped) and then the caller's own address; <c>X-Forwarded-Host</c> (the Host the caller
    /// sent) and <c>X-Forwarded-Proto</c>, unless the caller sent them itself.
    /// </summary>
    public static StringBuilder AppendTo(StringBuilder lines, HttpContext context)
    {
        var request = context.Request;
        var hops = 0;
        foreach (var hop in request.Headers[For])
        {
            if (!string.IsNullOrEmpty(hop))
            {
                lines.Append(hops++ == 0 ? For + ": " : ", ").Append(hop);
            }
        }

        // A dual-stack listener (bind "*") sees IPv4 callers as ::ffff:a.b.c.d; pass on a.b.c.d.
        var remote = context.Connection.RemoteIpAddress;
        if ((remote is { IsIPv4MappedToIPv6: true } ? remote.MapToIPv4() : remote)?.ToString() is { Length: > 0 } client)
        {
            lines.Append(hops++ == 0 ? For + ": " : ", ").Append(client);
        }

        if (hops > 0)
        {
            lines.Append("\r\n");
        }

        if (!request.Headers.ContainsKey("X-Forwarded-Host") && request.Host.HasValue)
        {
            lines.Append("X-Forwarded-Host: ").Append(request.Host.Value).Append("\r\n");
        }

        if (!request.Headers.ContainsKey("X-Forwarded-Proto"))
        {
            lines.Append("X-Forwarded-Proto: ").Append(request.Scheme).Append("\r\n");
        }

        return lines;
    }
}
