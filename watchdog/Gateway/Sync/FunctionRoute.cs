using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Fwatchdog.Gateway.Sync;

/// <summary>
/// Splits a raw request target such as <c>/function/echo/a%2Fb?x=1</c> into the function name,
/// the still-encoded sub-path (<c>/a%2Fb</c>, or <c>/</c>) and the raw query. Working on the raw
/// target is what keeps <c>%2F</c>, <c>%3F</c> and <c>%23</c> intact, as the OpenFaaS gateway keeps them.
/// Dot segments of the sub-path (<c>.</c>, <c>..</c>, also as <c>%2E</c>) are resolved here
/// (RFC 3986 5.2.4), so the upstream never gets a path that climbs out of its base path; a
/// sub-path whose <c>..</c> would climb above the function's root is refused (<see cref="EscapesBase"/>).
/// </summary>
internal readonly record struct FunctionRoute(string Name, string SubPath, string Query)
{
    public string PathAndQuery => Query.Length == 0 ? SubPath : SubPath + "?" + Query;

    /// <summary>True when <c>..</c> segments of the sub-path climb above the function's root (answered 400 bad_path).</summary>
    public bool EscapesBase { get; init; }

    /// <summary>
    /// The route of a request under <paramref name="prefix"/>, read from its raw target; null when
    /// it has none (answered 404 not_found) or climbs above the function's root (answered 400 bad_path).
    /// </summary>
    public static async Task<FunctionRoute?> ReadAsync(HttpContext context, string prefix)
    {
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        if (!TryParse(rawTarget, prefix, out var route))
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, "no such route");
            return null;
        }

        if (route.EscapesBase)
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.BadPath, "the path climbs above the function's root with \"..\"");
            return null;
        }

        return route;
    }

    public static bool TryParse(string rawTarget, string prefix, out FunctionRoute route)
    {
        route = default;
        var target = rawTarget;
        if (!target.StartsWith('/') && Uri.TryCreate(target, UriKind.Absolute, out var absolute))
        {
            target = absolute.PathAndQuery;
        }

        var queryAt = target.IndexOf('?', StringComparison.Ordinal);
        var path = queryAt < 0 ? target : target[..queryAt];
        var query = queryAt < 0 ? "" : target[(queryAt + 1)..];
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = path[prefix.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var name = slash < 0 ? rest : rest[..slash];
        var subPath = slash < 0 ? "/" : RemoveDotSegments(rest[slash..]);
        route = new FunctionRoute(name, subPath ?? "/", query) { EscapesBase = subPath is null };
        return true;
    }

    /// <summary>RFC 3986 5.2.4 on a path starting with "/"; null when a ".." would go above "/".</summary>
    internal static string? RemoveDotSegments(string path)
    {
        if (!path.Contains('.', StringComparison.Ordinal) && !path.Contains("%2e", StringComparison.OrdinalIgnoreCase))
        {
            return path;
        }

        var segments = path[1..].Split('/');
        var kept = new List<string>(segments.Length);
        var endsInDirectory = false;
        foreach (var segment in segments)
        {
            var dots = DotCount(segment);
            endsInDirectory = dots > 0;
            if (dots == 2)
            {
                if (kept.Count == 0)
                {
                    return null;
                }

                kept.RemoveAt(kept.Count - 1);
            }
            else if (dots == 0)
            {
                kept.Add(segment);
            }
        }

        return "/" + string.Join('/', kept) + (endsInDirectory && kept.Count > 0 ? "/" : "");
    }

    /// <summary>1 for ".", 2 for "..", each dot possibly written %2E; otherwise 0.</summary>
    private static int DotCount(string segment)
    {
        var decoded = segment.Replace("%2e", ".", StringComparison.OrdinalIgnoreCase);
        return decoded switch
        {
            "." => 1,
            ".." => 2,
            _ => 0,
        };
    }
}
