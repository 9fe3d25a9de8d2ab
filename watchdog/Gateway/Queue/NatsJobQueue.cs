using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using NATS.Client.ObjectStore;

namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// The queue on NATS JetStream, for several gateway replicas: calls are published to a
/// work-queue stream (subject <c>{nats_subject}.{function}</c>) and acknowledged by the server
/// before the 202; all replicas pull from one durable consumer; status and idempotency keys live
/// in a key-value bucket so any replica answers for any call; bodies over 64 KiB go to the
/// object store. A message is acked only once its callback is settled, marked in progress while
/// the call runs, and NAKed with a delay for a retry.
/// </summary>
internal sealed partial class NatsJobQueue : IJobQueue
{
    private static readonly TimeSpan ServerTimeout = TimeSpan.FromSeconds(5);
    private readonly NatsQueueOptions _options;
    private readonly NatsConnection _connection;
    private readonly NatsJSContext _js;
    private readonly TimeProvider _time;
    private readonly TimeSpan _lease;
    private readonly TimeSpan _retention;
    private readonly string _cacheFolder;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<string>? _scope;
    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
    private readonly ConcurrentDictionary<string, INatsJSMsg<byte[]>> _held = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<CallbackWork> _callbacks = new();
    private readonly SemaphoreSlim _setup = new(1, 1);
    private Resources? _resources;

    public NatsJobQueue(NatsQueueOptions options, string dataDir, TimeSpan lease, TimeSpan retention, TimeProvider time, ILogger logger, IReadOnlyList<string>? scope = null)
    {
        _scope = scope is { Count: > 0 } ? scope : null;
        _options = options;
        _time = time;
        _lease = lease;
        _retention = retention;
        _logger = logger;
        // The spool folder doubles as the cache of objects: a spooled result (<id>.result) is the
        // local copy of the object of the same name, so the callback right after reads it from disk.
        _cacheFolder = Path.Combine(Path.GetFullPath(dataDir), "bodies");
        _connection = new NatsConnection(new NatsOpts
        {
            Url = options.Url,
            Name = "fwatchdog-gateway",
            RetryOnInitialConnect = true,
            MaxReconnectRetry = -1,
            ReconnectWaitMin = TimeSpan.FromMilliseconds(200),
            ReconnectWaitMax = TimeSpan.FromSeconds(2),
        });
        _js = new NatsJSContext(_connection);
    }

    private sealed record Resources(INatsJSConsumer Consumer, INatsKVStore Calls, INatsObjStore Bodies);

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private string Subject(string function) => $"{_options.Subject}.{function}";

    /// <summary>Creates (or finds) the stream, the consumer, the bucket and the object store once NATS is reachable.</summary>
    private async Task<Resources> ReadyAsync(CancellationToken cancellationToken, TimeSpan? connectWait = null)
    {
        if (_resources is { } ready)
        {
            return ready;
        }

        if (_connection.ConnectionState != NatsConnectionState.Open)
        {
            using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connect.CancelAfter(connectWait ?? ServerTimeout);
            try
            {
                await _connection.ConnectAsync().AsTask().WaitAsync(connect.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new QueueUnavailableException($"NATS at {_options.Url} is not reachable");
            }
        }

        await _setup.WaitAsync(cancellationToken);
        try
        {
            if (_resources is { } raced)
            {
                return raced;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ServerTimeout * 2);
            var token = timeout.Token;
            await _js.CreateOrUpdateStreamAsync(new StreamConfig(_options.Stream, [_options.Subject + ".>"])
            {
                Retention = StreamConfigRetention.Workqueue,
                Storage = StreamConfigStorage.File,
                DuplicateWindow = TimeSpan.FromMinutes(2),
            }, token);
            await _js.CreateOrUpdateStreamAsync(new StreamConfig(_options.Stream + "_DEAD", [_options.Subject + "_dead.>"])
            {
                Storage = StreamConfigStorage.File,
                MaxAge = _retention,
            }, token);
            var consumer = await _js.CreateOrUpdateConsumerAsync(_options.Stream, new ConsumerConfig(_options.Consumer)
            {
                // queue_functions: a worker pool of its own reads only its functions' subjects. One
                // subject works on any server; several need nats-server 2.10 or later (filter_subjects).
                FilterSubject = _scope is [var only] ? Subject(only) : null,
                FilterSubjects = _scope is { Count: > 1 } ? _scope.Select(Subject).ToList() : null,
                AckPolicy = ConsumerConfigAckPolicy.Explicit,
                AckWait = _lease,
                MaxDeliver = -1,
                MaxAckPending = 10_000,
            }, token);
            var calls = await new NatsKVContext(_js).CreateOrUpdateStoreAsync(new NatsKVConfig(_options.Bucket)
            {
                MaxAge = _retention,
                Storage = NatsKVStorageType.File,
            }, token);
            var bodies = await new NatsObjContext(_js).CreateObjectStoreAsync(new NatsObjConfig(_options.Bucket + "-bodies")
            {
                MaxAge = _retention,
                Storage = NatsObjStorageType.File,
            }, token);
            _resources = new Resources(consumer, calls, bodies);
            LogReady(_logger, _options.Url, _options.Stream, _options.Consumer, _options.Bucket);
            return _resources;
        }
        catch (Exception e) when (e is NatsException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new QueueUnavailableException($"NATS at {_options.Url} did not set up the queue: {e.Message}", e);
        }
        finally
        {
            _setup.Release();
        }
    }

    public async Task<EnqueueResult> EnqueueAsync(JobRequest job, StoredBody body, CancellationToken cancellationToken)
    {
        if (_connection.ConnectionState != NatsConnectionState.Open && _resources is not null)
        {
            throw new QueueUnavailableException($"not connected to NATS at {_options.Url}");
        }

        // A caller waits at most a second for a connection that is not there yet: then 503.
        var resources = await ReadyAsync(cancellationToken, TimeSpan.FromSeconds(1));
        using var timeout = new CancellationTokenSource(ServerTimeout);
        var token = timeout.Token;
        string? idempotencyKey = null;
        var recordCreated = false;
        try
        {
            if (job.IdempotencyKey is { } key)
            {
                idempotencyKey = "idem." + job.Function + "." + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..40];
                var claimed = await resources.Calls.TryCreateAsync(idempotencyKey, Encoding.UTF8.GetBytes(job.CallId), cancellationToken: token);
                if (!claimed.Success)
                {
                    var first = await resources.Calls.GetEntryAsync<byte[]>(idempotencyKey, cancellationToken: token);
                    idempotencyKey = null;
                    return new EnqueueResult(Encoding.UTF8.GetString(first.Value ?? []), EnqueueStatus.Replayed);
                }
            }

            var record = new NatsCallRecord
            {
                CallId = job.CallId,
                Function = job.Function,
                MaxAttempts = job.MaxAttempts,
                CreatedAt = Now,
                DueAt = Now,
                CallbackUrl = job.CallbackUrl?.AbsoluteUri,
                ParentCallId = CallIds.ParentOf(job.Headers),
            };
            var created = await resources.Calls.TryCreateAsync(CallKey(job.CallId), Serialize(record), cancellationToken: token);
            if (!created.Success)
            {
                await ForgetAsync(resources, idempotencyKey, null);
                return new EnqueueResult(job.CallId, EnqueueStatus.CallIdTaken);
            }

            recordCreated = true;
            string? bodyObject = null;
            if (body.FilePath is not null)
            {
                bodyObject = job.CallId + ".request";
                await using var stream = body.Open();
                await resources.Bodies.PutAsync(bodyObject, stream, leaveOpen: false, cancellationToken: token);
            }

            var message = new NatsJobMessage(job.CallId, job.Function, job.Method, job.Path, job.Query,
                job.Headers.Select(h => new[] { h.Key, h.Value }).ToArray(), job.CallbackUrl?.AbsoluteUri, job.MaxAttempts,
                body.FilePath is null ? body.Inline : null, bodyObject, body.Length);
            var headers = new NatsHeaders { ["Nats-Msg-Id"] = job.CallId };
            var ack = await _js.PublishAsync(Subject(job.Function), JsonSerializer.SerializeToUtf8Bytes(message, NatsJson.Default.NatsJobMessage),
                headers: headers, cancellationToken: token);
            ack.EnsureSuccess();
            body.DeleteFile();
            return new EnqueueResult(job.CallId, EnqueueStatus.Stored);
        }
        catch (Exception e) when (e is NatsException or OperationCanceledException)
        {
            await ForgetAsync(resources, idempotencyKey, recordCreated ? CallKey(job.CallId) : null);
            throw new QueueUnavailableException($"NATS did not confirm the call: {e.Message}", e);
        }
    }

    /// <summary>Best effort: a call that was not published must not leave a status or an idempotency key behind.</summary>
    private static async Task ForgetAsync(Resources resources, string? idempotencyKey, string? callKey)
    {
        foreach (var key in new[] { idempotencyKey, callKey })
        {
            if (key is null)
            {
                continue;
            }

            try
            {
                using var timeout = new CancellationTokenSource(ServerTimeout);
                await resources.Calls.PurgeAsync(key, cancellationToken: timeout.Token);
            }
            catch (Exception e) when (e is NatsException or OperationCanceledException)
            {
            }
        }
    }

    private static string CallKey(string callId) => "call." + callId;

    private static byte[] Serialize(NatsCallRecord record) => JsonSerializer.SerializeToUtf8Bytes(record, NatsJson.Default.NatsCallRecord);

    private static NatsCallRecord? Deserialize(byte[]? value) =>
        value is null ? null : JsonSerializer.Deserialize(value, NatsJson.Default.NatsCallRecord);

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        _setup.Dispose();
    }

    [LoggerMessage(EventId = 900, Level = LogLevel.Information, Message = "NATS queue ready at {Url}: stream {Stream}, consumer {Consumer}, bucket {Bucket}")]
    private static partial void LogReady(ILogger logger, string url, string stream, string consumer, string bucket);

    [LoggerMessage(EventId = 901, Level = LogLevel.Warning, Message = "NATS queue: {Error}")]
    private static partial void LogProblem(ILogger logger, string error);
}
