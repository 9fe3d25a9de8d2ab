namespace Fwatchdog.Gateway;

/// <summary>
/// Joins a function's base address and a raw path-and-query without decoding or re-encoding
/// anything, so <c>%2F</c>, <c>%3F</c> and <c>%23</c> reach the function as sent.
/// </summary>
internal static class UpstreamUri
{
    private static readonly UriCreationOptions Raw = new() { DangerousDisablePathAndQueryCanonicalization = true };

    public static Uri Create(Uri baseUri, string pathAndQuery)
    {
        var root = baseUri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        return new Uri(root + (pathAndQuery.StartsWith('/') ? pathAndQuery : "/" + pathAndQuery), in Raw);
    }

    /// <summary>An upstream address as the operator's routes show it: without the user:password it may carry.</summary>
    public static string? Shown(Uri? address) =>
        address?.GetComponents(UriComponents.SchemeAndServer | UriComponents.PathAndQuery, UriFormat.UriEscaped);
}
