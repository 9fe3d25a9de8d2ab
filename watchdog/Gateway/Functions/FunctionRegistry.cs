using System.Net;
using System.Net.Sockets;

namespace Fwatchdog.Gateway.Functions;

/// <summary>
/// Resolves a name as addressed (<c>echo</c>, <c>figlet.openfaas-fn</c>) to a target: functions of
/// the stack file first (local ones only once their watchdog is healthy), then
/// <c>upstream_template</c>. Unknown is 404 and "exists but not ready" is 503, never confused.
/// </summary>
internal sealed class FunctionRegistry
{
    private readonly GatewayOptions _options;
    private readonly Dictionary<string, FunctionDefinition> _functions;
    private readonly IReadOnlyDictionary<string, LocalFunctionHost> _local;

    public FunctionRegistry(GatewayOptions options, IReadOnlyDictionary<string, LocalFunctionHost> local)
    {
        _options = options;
        _functions = options.Functions.ToDictionary(f => f.Name, StringComparer.Ordinal);
        _local = local;
    }

    public IReadOnlyCollection<FunctionDefinition> Configured => _functions.Values;

    public FunctionLookup Resolve(string addressed)
    {
        if (!FunctionName.IsValid(addressed))
        {
            return FunctionLookup.NotFound($"\"{addressed}\" is not a function name");
        }

        if (_functions.TryGetValue(addressed, out var definition))
        {
            var timeout = definition.Timeout ?? _options.UpstreamTimeout;
            var attempts = definition.MaxAttempts ?? _options.MaxAttempts;
            var concurrency = Math.Min(definition.MaxConcurrency ?? _options.QueueWorkers, _options.QueueWorkers);
            if (definition.Upstream is { } upstream)
            {
                return FunctionLookup.Found(new FunctionTarget(addressed, upstream, timeout, attempts, concurrency));
            }

            if (_local.TryGetValue(addressed, out var host))
            {
                return host.BaseUri is { } local
                    ? FunctionLookup.Found(new FunctionTarget(addressed, local, timeout, attempts, concurrency))
                    : FunctionLookup.NotReady($"function {addressed} is starting or restarting");
            }

            if (_options.UpstreamTemplate is { } known)
            {
                return FromTemplate(known, addressed, timeout, attempts, concurrency);
            }
        }

        return _options.UpstreamTemplate is { } template
            ? FromTemplate(template, addressed, _options.UpstreamTimeout, _options.MaxAttempts, _options.QueueWorkers)
            : FunctionLookup.NotFound($"function {addressed} is not in the stack file");
    }

    /// <summary>
    /// <see cref="Resolve"/>, plus for names that are not in the stack file (templated ones)
    /// whether the host resolves: a name that has no DNS record is a function that does not
    /// exist. Used before an async call is accepted.
    /// </summary>
    public async Task<FunctionLookup> ResolveExistingAsync(string addressed, CancellationToken cancellationToken)
    {
        var lookup = Resolve(addressed);
        return lookup.Target is { } target && !_functions.ContainsKey(addressed) && !await HostExistsAsync(target.BaseUri, cancellationToken)
            ? FunctionLookup.NotFound($"function {addressed} does not exist (its host does not resolve)")
            : lookup;
    }

    private static async Task<bool> HostExistsAsync(Uri target, CancellationToken cancellationToken)
    {
        if (target.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 || target.IsLoopback)
        {
            return true;
        }

        try
        {
            var addresses = await Dns.GetHostAddressesAsync(target.DnsSafeHost, cancellationToken);
            return addresses.Length > 0;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private FunctionLookup FromTemplate(string template, string addressed, TimeSpan timeout, int attempts, int concurrency)
    {
        var (name, ns) = FunctionName.Split(addressed, _options.FunctionNamespace);
        var label = addressed.Contains('.', StringComparison.Ordinal) ? addressed : $"{name}.{ns}";
        var text = template.Replace("{name}", name, StringComparison.Ordinal).Replace("{namespace}", ns, StringComparison.Ordinal);
        return Uri.TryCreate(text, UriKind.Absolute, out var uri)
            ? FunctionLookup.Found(new FunctionTarget(label, uri, timeout, attempts, concurrency))
            : FunctionLookup.NotFound($"upstream_template gives no valid address for {addressed}");
    }
}
