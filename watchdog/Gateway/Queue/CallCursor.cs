using System.Globalization;
using System.Text;

namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// A place in the newest-first order of calls: the creation time (Unix ms) and id of the last call
/// a page showed. Calls made later sort before it, so new calls never shift the pages after it.
/// Shown to clients as an opaque base64url string.
/// </summary>
internal readonly record struct CallCursor(long CreatedAt, string CallId)
{
    /// <summary>True when a call made at <paramref name="createdAt"/> with <paramref name="callId"/> comes after this place.</summary>
    public bool IsBefore(long createdAt, string callId) =>
        createdAt < CreatedAt || (createdAt == CreatedAt && string.CompareOrdinal(callId, CallId) < 0);

    public static CallCursor Of(JobStatus status) => new(status.CreatedAt.ToUnixTimeMilliseconds(), status.CallId);

    public string Encode() =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(CreatedAt.ToString(CultureInfo.InvariantCulture) + ":" + CallId)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryDecode(string text, out CallCursor cursor)
    {
        cursor = default;
        var base64 = text.Replace('-', '+').Replace('_', '/');
        base64 += new string('=', (4 - (base64.Length % 4)) % 4);
        var bytes = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64, bytes, out var length))
        {
            return false;
        }

        var decoded = Encoding.UTF8.GetString(bytes, 0, length);
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !long.TryParse(decoded.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var createdAt) || !CallIds.IsValid(decoded[(colon + 1)..]))
        {
            return false;
        }

        cursor = new CallCursor(createdAt, decoded[(colon + 1)..]);
        return true;
    }
}
