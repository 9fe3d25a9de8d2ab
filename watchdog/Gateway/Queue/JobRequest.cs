namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// Everything needed to replay an async call later: the original method, the raw sub-path and
/// query, the headers kept (see <c>async_keep_credentials</c>) and where to send the result.
/// </summary>
internal sealed record JobRequest(
    string CallId,
    string Function,
    string Method,
    string Path,
    string Query,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    Uri? CallbackUrl,
    string? IdempotencyKey,
    int MaxAttempts)
{
    /// <summary>The secret that opens the call in the status API (see <c>CallAccess</c>).</summary>
    public string? Token { get; init; }

    /// <summary>The request's fingerprint, kept with the Idempotency-Key so a reused key with another request is refused.</summary>
    public string? RequestHash { get; init; }
}
