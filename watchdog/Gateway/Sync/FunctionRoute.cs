namespace Fwatchdog.Gateway.Sync;

/// <summary>
/// Splits a raw request target such as <c>/function/echo/a%2Fb?x=1</c> into the function name,
/// the still-encoded sub-path (<c>/a%2Fb</c>, or <c>/</c>) and the raw query. Working on the raw
/// target is what keeps <c>%2F</c>, <c>%3F</c> and <c>%23</c> intact (gateway-reference 1.2).
/// </summary>
internal readonly record struct FunctionRoute(string Name, string SubPath, string Query)
{
    public string PathAndQuery => Query.Length == 0 ? SubPath : SubPath + "?" + Query;

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
        var subPath = slash < 0 ? "/" : rest[slash..];
        route = new FunctionRoute(name, subPath, query);
        return true;
    }
}
