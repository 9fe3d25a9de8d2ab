using System.Net.Sockets;
using Fwatchdog.Configuration;
using Fwatchdog.Forwarding;

namespace Fwatchdog.Server.HttpMode;

/// <summary>
/// mode=http readiness: the upstream accepts a TCP connection, and with <c>ready_path</c> also
/// answers a GET of that path with 2xx. The of-watchdog reports ready at once, so calls that
/// arrive while the function still boots get 500.
/// </summary>
internal sealed class UpstreamProbe(WatchdogOptions options)
{
    private static readonly TimeSpan AttemptLimit = TimeSpan.FromSeconds(2);
    private readonly Uri _upstream = options.UpstreamUrl ?? throw new InvalidOperationException("mode=http needs http_upstream_url");

    public string Describe() => options.ReadyPath is { } path ? $"GET {path} answered 2xx" : $"{_upstream.Authority} accepts connections";

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(AttemptLimit);
        try
        {
            if (options.ReadyPath is { } path)
            {
                var status = await Http1Probe.GetStatusAsync(_upstream.DnsSafeHost, _upstream.Port, _upstream.Authority, _upstream.AbsolutePath.TrimEnd('/') + path, attempt.Token);
                return status is >= 200 and < 300;
            }

            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(_upstream.DnsSafeHost, _upstream.Port, attempt.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or IOException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }
}
