using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Streaming;

/// <summary>
/// Which failures of a read from the caller's request body are the caller's error (a body that
/// breaks HTTP/1.1) rather than a caller that left. Kestrel throws
/// <see cref="BadHttpRequestException"/> for bad chunked framing and an early end, and an
/// <see cref="IOException"/> around an <see cref="OverflowException"/> for a chunk size too large
/// to hold.
/// </summary>
internal static class RequestBodyErrors
{
    /// <summary>True when <paramref name="error"/> means the body is malformed: the caller should get 400.</summary>
    public static bool IsMalformed(Exception error) =>
        error is BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest } or IOException { InnerException: OverflowException };
}
