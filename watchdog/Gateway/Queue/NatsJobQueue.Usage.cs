using NATS.Client.Core;
using NATS.Client.JetStream.Models;

namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// What a function has queued, for the accept bounds. The count is the messages on the
/// function's subject in the work-queue stream, which every gateway shares (a message leaves once
/// its call and callback are settled). JetStream keeps no byte total per subject, so the bytes are
/// this gateway's own accepts, the newest as many as the stream still holds: exact for one
/// gateway whose calls finish in order, an estimate with several gateways or after a restart.
/// </summary>
internal sealed partial class NatsJobQueue
{
    private readonly Dictionary<string, Queue<long>> _acceptedBytes = new(StringComparer.Ordinal);

    public async Task<QueueUsage> UsageAsync(string function, CancellationToken cancellationToken)
    {
        // As an accept: a lost connection is waited out for a few seconds, NATS down is a 503.
        if (_resources is not null && !await ConnectedWithinAsync(ReconnectWait, cancellationToken))
        {
            throw new QueueUnavailableException($"not connected to NATS at {_options.Url}");
        }

        await ReadyAsync(cancellationToken, TimeSpan.FromSeconds(1));
        long calls;
        try
        {
            // The stream's leader answers: while a new one is elected the accept waits, as its publish would.
            var subject = Subject(function);
            var stream = await PersistAsync(token => _js.GetStreamAsync(_options.Stream, new StreamInfoRequest { SubjectsFilter = subject }, token), _time.GetUtcNow() + AcceptWait);
            calls = stream.Info.State.Subjects is { } subjects && subjects.TryGetValue(subject, out var count) ? count : 0;
        }
        catch (Exception e) when (e is NatsException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new QueueUnavailableException($"NATS did not say what {function} has queued: {e.Message}", e);
        }

        lock (_acceptedBytes)
        {
            if (!_acceptedBytes.TryGetValue(function, out var sizes))
            {
                return new QueueUsage(calls, 0);
            }

            while (sizes.Count > calls)
            {
                sizes.Dequeue();
            }

            if (sizes.Count == 0)
            {
                _acceptedBytes.Remove(function);
            }

            return new QueueUsage(calls, sizes.Sum());
        }
    }

    /// <summary>A call of <paramref name="function"/> with a body of <paramref name="bytes"/> was stored by this gateway.</summary>
    private void CountAccepted(string function, long bytes)
    {
        lock (_acceptedBytes)
        {
            if (!_acceptedBytes.TryGetValue(function, out var sizes))
            {
                _acceptedBytes[function] = sizes = new Queue<long>();
            }

            sizes.Enqueue(bytes);
        }
    }
}
