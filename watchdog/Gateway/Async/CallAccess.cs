using System.Security.Cryptography;
using System.Text;
using Fwatchdog.Gateway.Queue;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Gateway.Async;

/// <summary>
/// Who may read, cancel or replay a queued call (docs/security.md): the submitter, who holds the
/// call's token from its 202, or the operator, with the gateway's <c>basic_auth</c> credentials.
/// A call id alone (which a caller may choose, and others may guess) opens nothing. The status
/// URL carries the token as <c>/async-calls/{id}~{token}</c>, so a client that follows the 202's
/// Location (and appends <c>/result</c>) needs nothing more; <c>X-Call-Token</c> is the header form.
/// </summary>
internal static class CallAccess
{
    public const string TokenHeader = "X-Call-Token";
    public const char Separator = '~';

    /// <summary>128 random bits, base64url: unguessable, and made of characters a path keeps as they are.</summary>
    public static string NewToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The path segment that names a call and opens it: <c>{id}~{token}</c>, or the bare id for a call stored without a token.</summary>
    public static string Handle(string callId, string? token) => token is null ? callId : callId + Separator + token;

    /// <summary>Splits a path segment into the call id and the token it carries, if any.</summary>
    public static (string CallId, string? Token) Parse(string segment)
    {
        var at = segment.IndexOf(Separator, StringComparison.Ordinal);
        return at < 0 ? (segment, null) : (segment[..at], segment[(at + 1)..]);
    }

    /// <summary>True when the request holds the call's token (path or header).</summary>
    public static bool Opens(string? given, JobStatus status) =>
        given is { Length: > 0 } && status.Token is { } token
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(given), Encoding.ASCII.GetBytes(token));

    /// <summary>
    /// The request fingerprint an Idempotency-Key is bound to: method, sub-path, query, callback
    /// URL, the caller's credentials (Authorization, Cookie: a replay hands out the call's status
    /// URL, so it needs the credentials the call came with, even when they are not stored) and body.
    /// The same key with another fingerprint is refused (422), never another call's id.
    /// </summary>
    public static async Task<string> FingerprintAsync(JobRequest job, HttpRequest request, StoredBody body, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{job.Method}\n{job.Path}\n{job.Query}\n{job.CallbackUrl?.AbsoluteUri}\n{body.Length}\n"));
        hash.AppendData(Encoding.Latin1.GetBytes($"{request.Headers.Authorization}\n{request.Headers.Cookie}\n"));
        await using var stream = body.Open();
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
