using System.Net.Sockets;

namespace Fwatchdog.Forwarding;

/// <summary>How one forwarded call ended when the answer had not started (once it has, a failure throws).</summary>
/// <param name="Status">The upstream's status, passed on; 0 when no answer was.</param>
/// <param name="Detail">One line for the log and the error body, naming the upstream; empty when answered.</param>
/// <param name="ConnectError">With <see cref="ForwarderError.ConnectFailed"/>: the socket error, e.g. HostNotFound, or one a connect callback threw to refuse an address.</param>
internal readonly record struct ForwardResult(int Status, ForwarderError Error, string Detail, SocketException? ConnectError = null)
{
    public static ForwardResult Answered(int status) => new(status, ForwarderError.None, "");

    public static ForwardResult Failed(ForwarderError error, string detail, SocketException? connectError = null) => new(0, error, detail, connectError);
}
