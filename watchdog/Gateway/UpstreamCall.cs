using System.Diagnostics;
using Fwatchdog.Gateway.Functions;

namespace Fwatchdog.Gateway;

/// <summary>
/// One call to a function in progress: the response (or the failure) and the deadline that
/// still bounds reading its body. Disposing it records the metrics once.
/// </summary>
internal sealed class UpstreamCall(
    FunctionTarget target,
    HttpResponseMessage? response,
    GatewayFailure failure,
    string detail,
    CancellationTokenSource deadline,
    Stopwatch clock,
    GatewayMetrics metrics,
    CancellationToken callerGone) : IDisposable
{
    private int _status;

    public HttpResponseMessage? Response => response;

    public GatewayFailure Failure => failure;

    public string Detail => detail;

    /// <summary>Cancelled at the deadline or when the caller goes away.</summary>
    public CancellationToken Token => deadline.Token;

    /// <summary>True when the deadline (not the caller) ended the call.</summary>
    public bool TimedOut => deadline.IsCancellationRequested && !callerGone.IsCancellationRequested;

    public TimeSpan Elapsed => clock.Elapsed;

    /// <summary>The status the caller saw, for the metrics (set when it differs from the function's).</summary>
    public void Report(int status) => _status = status;

    public void Dispose()
    {
        var status = _status != 0 ? _status : response is not null ? (int)response.StatusCode : GatewayFailures.Describe(failure).Status;
        metrics.Finished(target.Name, status, clock.Elapsed);
        response?.Dispose();
        deadline.Dispose();
    }
}
