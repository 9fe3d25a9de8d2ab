using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Forwarding;

/// <summary>
/// The caller's side of one forwarded call with a streamed body: when the body breaks HTTP/1.1
/// (bad chunked framing, an early end) the pump records it here and the call's reads from the
/// upstream are cancelled at once, so the caller gets 400 now rather than 504 at the deadline.
/// </summary>
internal sealed class CallerBody(CancellationToken deadline) : IDisposable
{
    private readonly CancellationTokenSource _call = CancellationTokenSource.CreateLinkedTokenSource(deadline);

    /// <summary>Why the body was refused (Kestrel's exception); null while it is fine.</summary>
    public Exception? Error { get; private set; }

    /// <summary>The status for the caller: 413 when the body crossed a size limit, else 400.</summary>
    public int Status => Error is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest;

    /// <summary>The call's deadline, also fired when the body is refused.</summary>
    public CancellationToken Token => _call.Token;

    public void Refuse(Exception error)
    {
        Error = error;
        try
        {
            _call.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call has ended already: nothing is left to stop.
        }
    }

    public void Dispose() => _call.Dispose();
}
