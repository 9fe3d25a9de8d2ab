using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// Fair claiming: each function has its own durable pull consumer on its subject
/// (<c>{nats_consumer}-{function}</c>), shared by all replicas, so the workers can take calls
/// round-robin across the functions that have queued work (<see cref="FairTurns"/>) instead of in
/// the stream's order, where one function's backlog would hold every other function's calls
/// behind it. Each function's own calls still come in their order.
/// </summary>
internal sealed partial class NatsJobQueue
{
    private readonly ConcurrentDictionary<string, INatsJSConsumer> _consumers = new(StringComparer.Ordinal);
    private readonly FairTurns _turns = new();

    public async Task<IReadOnlyList<ClaimedJob>> ClaimAsync(int max, ISlotBook slots, CancellationToken cancellationToken)
    {
        var resources = await ReadyGuardedAsync(cancellationToken);
        var claimed = new List<ClaimedJob>();
        try
        {
            var line = _turns.Order(await FunctionsWithWorkAsync(cancellationToken));

            // One call per function per round, the function served longest ago first; a function
            // with nothing to give now (its calls all running, or its slots full) leaves the line.
            for (var fetches = 0; claimed.Count < max && line.Count > 0 && fetches < 4 * max + 16; fetches++)
            {
                var function = line[0];
                line.RemoveAt(0);
                if (await ClaimFromAsync(resources, function, line.Count == 0 ? max - claimed.Count : 1, slots, claimed, cancellationToken))
                {
                    line.Add(function);
                }
            }
        }
        catch (Exception e) when (claimed.Count > 0 && e is not (OutOfMemoryException or OperationCanceledException))
        {
            // The calls claimed before the failure hold slots and leases: hand them over to run
            // rather than drop them. The next fetch meets the fault again.
            LogProblem(_logger, "NATS fetch broke off: " + e.Message);
        }
        catch (NatsException e)
        {
            throw new QueueUnavailableException("NATS fetch failed: " + e.Message, e);
        }

        return claimed;
    }

    /// <summary>Fetches up to <paramref name="count"/> of the function's messages; true when it had any (it may have more).</summary>
    private async Task<bool> ClaimFromAsync(Resources resources, string function, int count, ISlotBook slots, List<ClaimedJob> claimed, CancellationToken cancellationToken)
    {
        if (!slots.TryTake(function))
        {
            return false;
        }

        slots.Give(function);
        INatsJSConsumer consumer;
        try
        {
            consumer = await ConsumerAsync(function, cancellationToken);
        }
        catch (NatsJSApiException e)
        {
            // Say, another worker pool's consumer holds this subject (queue_functions lists that
            // overlap): this function waits, the others are claimed.
            LogProblem(_logger, $"no consumer for {function}: {e.Error.Description}");
            return false;
        }

        var any = false;
        try
        {
            await foreach (var msg in consumer.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = count }, cancellationToken: cancellationToken))
            {
                any = true;
                if (await ClaimOneAsync(resources, msg, slots, cancellationToken) is { } job)
                {
                    claimed.Add(job);
                    _turns.Served(function);
                }
            }
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            // Deleted from outside: made again on the next claim.
            _consumers.TryRemove(function, out _);
        }

        return any;
    }

    /// <summary>The functions in scope with messages in the stream: queued, running, or waiting for a callback.</summary>
    private async Task<List<string>> FunctionsWithWorkAsync(CancellationToken cancellationToken)
    {
        var prefix = _options.Subject + ".";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ServerTimeout);
        INatsJSStream stream;
        try
        {
            stream = await _js.GetStreamAsync(_options.Stream, new StreamInfoRequest { SubjectsFilter = prefix + ">" }, timeout.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new QueueUnavailableException($"NATS did not say which functions have queued calls within {ServerTimeout.TotalSeconds} s", e);
        }

        var functions = new List<string>();
        foreach (var (subject, count) in stream.Info.State.Subjects ?? new Dictionary<string, long>())
        {
            var function = subject[prefix.Length..];
            if (count > 0 && (_scope is null || _scope.Contains(function)))
            {
                functions.Add(function);
            }
        }

        functions.Sort(StringComparer.Ordinal);
        return functions;
    }

    private async Task<INatsJSConsumer> ConsumerAsync(string function, CancellationToken cancellationToken)
    {
        if (_consumers.TryGetValue(function, out var known))
        {
            return known;
        }

        var consumer = await _js.CreateOrUpdateConsumerAsync(_options.Stream, new ConsumerConfig(ConsumerName(function))
        {
            Description = $"fwatchdog workers of {function}",
            FilterSubject = Subject(function),
            AckPolicy = ConsumerConfigAckPolicy.Explicit,
            AckWait = _lease,
            MaxDeliver = -1,
            MaxAckPending = 10_000,
        }, cancellationToken);
        _consumers[function] = consumer;
        return consumer;
    }

    /// <summary><c>{nats_consumer}-{function}</c>; a name a consumer may not have (dots, long) is replaced by a hash of it.</summary>
    private string ConsumerName(string function) =>
        _options.Consumer + "-" + (function.Contains('.', StringComparison.Ordinal) || function.Length > 64
            ? Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(function)))[..32]
            : function);

    /// <summary>
    /// Earlier versions pulled every function's calls through one consumer named nats_consumer; a
    /// work-queue stream allows no other consumer on the same subjects, so it is removed. Messages
    /// it had handed out and not acknowledged are delivered again by the functions' consumers.
    /// </summary>
    private async Task RemoveSharedConsumerAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (await _js.DeleteConsumerAsync(_options.Stream, _options.Consumer, cancellationToken))
            {
                LogSharedConsumerRemoved(_logger, _options.Consumer);
            }
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
        }
    }

    /// <summary>Queued (not yet handed out) and running (handed out, not acknowledged) over this pool's consumers.</summary>
    public async Task<IReadOnlyDictionary<string, long>> CountAsync(CancellationToken cancellationToken)
    {
        await ReadyGuardedAsync(cancellationToken);
        long queued = 0, running = 0;
        try
        {
            await foreach (var consumer in _js.ListConsumersAsync(_options.Stream, cancellationToken))
            {
                var info = consumer.Info;
                var subject = info.Config.FilterSubject;
                if (subject is not null && subject.StartsWith(_options.Subject + ".", StringComparison.Ordinal)
                    && info.Name == ConsumerName(subject[(_options.Subject.Length + 1)..]))
                {
                    queued += (long)info.NumPending;
                    running += info.NumAckPending;
                }
            }
        }
        catch (NatsException e)
        {
            throw new QueueUnavailableException("NATS did not list the consumers: " + e.Message, e);
        }

        return new Dictionary<string, long>(StringComparer.Ordinal) { ["queued"] = queued, ["running"] = running };
    }

    [LoggerMessage(EventId = 904, Level = Microsoft.Extensions.Logging.LogLevel.Warning, Message = "NATS queue: removed the shared consumer {Consumer} of earlier versions; each function now has its own ({Consumer}-<function>)")]
    private static partial void LogSharedConsumerRemoved(Microsoft.Extensions.Logging.ILogger logger, string consumer);
}
