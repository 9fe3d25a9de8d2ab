using System.Net.Sockets;
using Fwatchdog.Configuration;

namespace Fwatchdog.Server.HttpMode;

/// <summary>
/// mode=http readiness: the upstream accepts a TCP connection, and with <c>ready_path</c> also
/// answers a GET of that path with 2xx. The of-watchdog reports ready at once, so calls that
/// arrive while the function still boots get 500 (watchdog-reference 2.6).
/// </summary>
internal sealed class UpstreamProbe(WatchdogOptions options) : IDisposable
{
    private static readonly TimeSpan AttemptLimit = TimeSpan.FromSeconds(2);
    private readonly Uri _upstream = options.UpstreamUrl ?? throw new InvalidOperationException("mode=http needs http_upstream_url");
    private readonly HttpClient _client = new(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = AttemptLimit };

    public string Describe() => options.ReadyPath is { } path ? $"GET {path} answered 2xx" : $"{_upstream.Authority} accepts connections";

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(AttemptLimit);
        try
        {
            if (options.ReadyPath is { } path)
            {
                using var response = await _client.GetAsync(new Uri(_upstream.GetLeftPart(UriPartial.Authority) + _upstream.AbsolutePath.TrimEnd('/') + path), HttpCompletionOption.ResponseHeadersRead, attempt.Token);
                return response.IsSuccessStatusCode;
            }

            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(_upstream.DnsSafeHost, _upstream.Port, attempt.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or HttpRequestException or IOException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    public void Dispose() => _client.Dispose();
}
