using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// The listing of calls. The bucket has no index by time or function: a listing reads the newest
/// <see cref="ListWindow"/> messages of the bucket's stream (the latest record of each call written
/// in that window) in one pass, then filters, sorts and pages them here. The bucket keeps one
/// record per call (async_retention bounds how many); a call whose latest write is older than the
/// window is not read, so when the window does not reach the stream's start, calls made before the
/// oldest record read are left out and the page says so (<see cref="CallPage.OlderUnlisted"/>).
/// </summary>
internal sealed partial class NatsJobQueue
{
    /// <summary>How many bucket messages one listing reads at most: its cost, bounded.</summary>
    internal const int ListWindow = 10_000;

    /// <summary>
    /// A pause this long in a listing's read ends it. Seen with records being rewritten while a
    /// listing reads (a call moving on): the pending count of the last message read can stay above
    /// zero with nothing more to come, and the read would wait for <see cref="ListWait"/>.
    /// </summary>
    private static readonly TimeSpan ListIdleEnd = TimeSpan.FromSeconds(2);

    /// <summary>How long one listing may read before its caller gets a 503.</summary>
    private static readonly TimeSpan ListWait = TimeSpan.FromSeconds(10);

    public async Task<CallPage> ListAsync(CallQuery query, CancellationToken cancellationToken)
    {
        var resources = await ReadyForCallerAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ListWait);
        var records = new Dictionary<string, NatsCallRecord>(StringComparer.Ordinal);
        var olderUnlisted = false;
        long oldestRead = long.MinValue;
        try
        {
            var state = (await _js.GetStreamAsync("KV_" + _options.Bucket, cancellationToken: timeout.Token)).Info.State;
            if (state.Messages > 0)
            {
                var start = state.LastSeq >= ListWindow ? state.LastSeq - ListWindow + 1 : 0;
                olderUnlisted = start > state.FirstSeq;
                var options = new NatsKVWatchOpts { ResumeAtRevision = olderUnlisted ? start : 0, OnNoData = _ => ValueTask.FromResult(true) };
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
                try
                {
                    await foreach (var entry in resources.Calls.WatchAsync<byte[]>("call.>", opts: options, cancellationToken: idle.Token))
                    {
                        if (entry.Operation == NatsKVOperation.Put && Deserialize(entry.Value) is { } record)
                        {
                            records[entry.Key] = record;
                        }
                        else
                        {
                            records.Remove(entry.Key);
                        }

                        if (oldestRead == long.MinValue)
                        {
                            oldestRead = entry.Created.ToUnixTimeMilliseconds();
                        }

                        // Done at the last message: none pending. Records written meanwhile are read too, so a
                        // call that moved on while the listing read is shown once, as it is now.
                        if (entry.Delta == 0)
                        {
                            break;
                        }

                        idle.CancelAfter(ListIdleEnd);
                    }
                }
                catch (OperationCanceledException) when (idle.IsCancellationRequested && !timeout.IsCancellationRequested)
                {
                    // Nothing more came for ListIdleEnd after records had been arriving: the window has been read.
                }
            }
        }
        catch (Exception e) when (e is NatsException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new QueueUnavailableException($"NATS did not list the calls: {e.Message}", e);
        }

        // With part of the stream unread, only calls made after the oldest record read are surely all there.
        var calls = records.Values.Select(ToStatus)
            .Where(s => query.Matches(s) && (!olderUnlisted || s.CreatedAt.ToUnixTimeMilliseconds() >= oldestRead))
            .OrderByDescending(s => s.CreatedAt).ThenByDescending(s => s.CallId, StringComparer.Ordinal)
            .Take(query.Limit + 1)
            .ToList();
        return CallPage.Of(calls, query.Limit, olderUnlisted);
    }
}
