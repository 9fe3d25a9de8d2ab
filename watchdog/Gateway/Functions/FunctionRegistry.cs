using System.Net;
using System.Net.Sockets;
using Fwatchdog.Gateway.Reach;

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

    /// <summary>The stack file's entry for <paramref name="name"/>, if it has one.</summary>
    public FunctionDefinition? Find(string name) => _functions.GetValueOrDefault(name);

    /// <summary>
    /// The name a call is known by: <c>echo.{function_namespace}</c> is <c>echo</c> (faas-cli and the
    /// connectors always add the namespace); any other name as addressed. A name that keeps a dot
    /// without the suffix (<c>dev.figlet.openfaas-fn</c>) stays whole, so a templated name still
    /// splits at its last dot.
    /// </summary>
    public string Bare(string addressed)
    {
        var suffix = "." + _options.FunctionNamespace;
        var bare = addressed.EndsWith(suffix, StringComparison.Ordinal) ? addressed[..^suffix.Length] : addressed;
        return bare.Length > 0 && !bare.Contains('.', StringComparison.Ordinal) && FunctionName.IsValid(bare) ? bare : addressed;
    }

    /// <summary>
    /// The name a stack-file function's calls are counted under in the metrics: its target's, which
    /// for a function that goes to upstream_template is name.namespace.
    /// </summary>
    public string MetricsName(string function) => Resolve(function).Target?.Name ?? function;

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
                return FromTemplate(known, addressed, timeout, attempts, concurrency, listed: true);
            }
        }

        return _options.UpstreamTemplate is { } template
            ? FromTemplate(template, addressed, _options.UpstreamTimeout, _options.MaxAttempts, _options.QueueWorkers, listed: false)
            : FunctionLookup.NotFound($"function {addressed} is not in the stack file{Suggestion(addressed)}");
    }

    /// <summary>
    /// "; did you mean echo?" for a name a few edits from a stack-file function. Only without
    /// basic_auth: then /system/functions lists those names to anyone, so the hint tells a caller
    /// nothing new; with it, the list is the operator's. Templated names never get here, so a
    /// name that does not resolve and a refused one still get the same answer (docs/security.md).
    /// </summary>
    private string Suggestion(string addressed) =>
        _options.BasicAuth is null && Configuration.NameSuggestion.Closest(addressed, _functions.Keys) is { } closest
            ? $"; did you mean {closest}?"
            : "";

    /// <summary>
    /// <see cref="Resolve"/>, plus for names that are not in the stack file (templated ones)
    /// whether the host resolves: a name that has no DNS record is a function that does not
    /// exist, and so is one whose host resolves to a refused address (the same answer, so the
    /// gateway is no DNS oracle). Used before an async call is accepted; the connection is
    /// checked again when the call runs.
    /// </summary>
    public async Task<FunctionLookup> ResolveExistingAsync(string addressed, CancellationToken cancellationToken)
    {
        var lookup = Resolve(addressed);
        if (lookup.Target is not { } target || _functions.ContainsKey(addressed))
        {
            return lookup;
        }

        var exists = target.CheckAddress
            ? await ResolvesToAllowedAsync(target.BaseUri, cancellationToken)
            : await HostExistsAsync(target.BaseUri, cancellationToken);
        return exists ? lookup : FunctionLookup.DoesNotExist(addressed);
    }

    private static async Task<bool> ResolvesToAllowedAsync(Uri target, CancellationToken cancellationToken)
    {
        try
        {
            return !(await CheckedConnect.ResolveAsync(target.IdnHost, cancellationToken)).Any(RefusedAddresses.IsRefused);
        }
        catch (SocketException)
        {
            return false;
        }
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

    /// <param name="listed">The name is in the stack file (the operator chose it), so its address is not checked.</param>
    private FunctionLookup FromTemplate(string template, string addressed, TimeSpan timeout, int attempts, int concurrency, bool listed)
    {
        var (name, ns) = FunctionName.Split(addressed, _options.FunctionNamespace);
        var label = addressed.Contains('.', StringComparison.Ordinal) ? addressed : $"{name}.{ns}";
        var text = template.Replace("{name}", name, StringComparison.Ordinal).Replace("{namespace}", ns, StringComparison.Ordinal);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            return FunctionLookup.NotFound($"upstream_template gives no valid address for {addressed}");
        }

        // A name that makes the host an IP address ("127.0.0.1" splits into 127.0.0 + 1 and is
        // rebuilt; "2130706433" is 127.0.0.1 too) would let any caller reach any address on the
        // template's port. Only a template written with an IP keeps one.
        var callerChoosesHost = !TemplateHostIsFixed(template);
        if (IsAddress(uri.Host) && callerChoosesHost)
        {
            return FunctionLookup.NotFound($"\"{addressed}\" is not a function name: with upstream_template it would make the IP address {uri.Host}");
        }

        // A host name is checked where it resolves, when connecting: "localhost" or a name that
        // resolves to 169.254.169.254 is no function either, unless upstream_allow_local.
        var check = callerChoosesHost && !listed && !_options.UpstreamAllowLocal;
        return FunctionLookup.Found(new FunctionTarget(label, uri, timeout, attempts, concurrency, check));
    }

    /// <summary>Whether a host is an IP literal in any form a resolver takes (dotted, short "127.1", decimal, hex, octal, IPv6).</summary>
    internal static bool IsAddress(string host)
    {
        var bare = host.TrimEnd('.').Trim('[', ']');
        if (bare.Length == 0)
        {
            return false;
        }

        if (IPAddress.TryParse(bare, out _) || Uri.CheckHostName(bare) is UriHostNameType.IPv4 or UriHostNameType.IPv6)
        {
            return true;
        }

        // inet_aton forms: one to four parts, each decimal, octal (0...) or hex (0x...).
        var parts = bare.Split('.');
        return parts.Length <= 4 && parts.All(p => p.Length > 0 && (p.All(char.IsAsciiDigit)
            || (p.Length > 1 && p[0] == '0' && p[1] is 'x' or 'X' && p[2..].All(char.IsAsciiHexDigit))));
    }

    private static bool TemplateHostIsFixed(string template)
    {
        var authority = template.Split("://", 2) is [_, var rest] ? rest.Split('/', 2)[0] : template;
        return !authority.Contains("{name}", StringComparison.Ordinal) && !authority.Contains("{namespace}", StringComparison.Ordinal);
    }
}
