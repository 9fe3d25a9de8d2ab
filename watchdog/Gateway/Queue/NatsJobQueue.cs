using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Fwatchdog.Configuration;
using Fwatchdog.Hosting;
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

    /// <param name="CallsStream">The stream under the bucket: reads through it are answered by its leader.</param>
    private sealed record Resources(INatsKVStore Calls, INatsObjStore Bodies, INatsJSStream CallsStream);

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
            var replicas = _options.Replicas;
            foreach (var stream in new[] { _options.Stream, _options.Stream + "_DEAD", "KV_" + _options.Bucket, "OBJ_" + _options.Bucket + "-bodies" })
            {
                await MatchReplicasAsync(stream, token);
            }

            await _js.CreateOrUpdateStreamAsync(new StreamConfig(_options.Stream, [_options.Subject + ".>"])
            {
                Retention = StreamConfigRetention.Workqueue,
                Storage = StreamConfigStorage.File,
                DuplicateWindow = TimeSpan.FromMinutes(2),
                NumReplicas = replicas,
            }, token);
            await _js.CreateOrUpdateStreamAsync(new StreamConfig(_options.Stream + "_DEAD", [_options.Subject + "_dead.>"])
            {
                Storage = StreamConfigStorage.File,
                MaxAge = _retention,
                NumReplicas = replicas,
            }, token);
            await RemoveSharedConsumerAsync(token);
            var calls = await new NatsKVContext(_js).CreateOrUpdateStoreAsync(new NatsKVConfig(_options.Bucket)
            {
                MaxAge = _retention,
                Storage = NatsKVStorageType.File,
                NumberOfReplicas = replicas,
            }, token);
            var bodies = await new NatsObjContext(_js).CreateObjectStoreAsync(new NatsObjConfig(_options.Bucket + "-bodies")
            {
                MaxAge = _retention,
                Storage = NatsObjStorageType.File,
                NumberOfReplicas = replicas,
            }, token);
            var callsStream = await _js.GetStreamAsync("KV_" + _options.Bucket, cancellationToken: token);
            _resources = new Resources(calls, bodies, callsStream);
            LogReady(_logger, _options.Url, _options.Stream, _options.Consumer, _options.Bucket, replicas);
            return _resources;
        }
        catch (NatsJSApiException e) when (TooFewServers(e.Error))
        {
            throw new QueueUnavailableException($"nats_replicas={_options.Replicas}: NATS at {_options.Url} cannot keep that many copies "
                + $"({e.Error.Description}); give it a cluster of at least {_options.Replicas} JetStream servers, all up, or lower nats_replicas", e);
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

    /// <summary>
    /// JetStream's answers when a stream asks for more replicas than there are servers:
    /// 10074 "replicas > 1 not supported in non-clustered mode" (a single server: final), 10023
    /// "insufficient resources" (fewer servers up than replicas: a small cluster, or a node down).
    /// </summary>
    private static bool TooFewServers(ApiError error) => error.ErrCode is NotClustered or InsufficientResources;

    private const int NotClustered = 10074;
    private const int InsufficientResources = 10023;

    /// <summary>
    /// A stream made earlier with another replica count is changed to nats_replicas (JetStream
    /// copies the data to new peers, or drops peers, while the stream stays in service), and the
    /// log says so: creating it with a different count would fail.
    /// </summary>
    private async Task MatchReplicasAsync(string stream, CancellationToken cancellationToken)
    {
        INatsJSStream existing;
        try
        {
            existing = await _js.GetStreamAsync(stream, cancellationToken: cancellationToken);
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            return;
        }

        var config = existing.Info.Config;
        if (config.NumReplicas != _options.Replicas)
        {
            var was = config.NumReplicas;
            config.NumReplicas = _options.Replicas;
            await _js.UpdateStreamAsync(config, cancellationToken);
            LogReplicasChanged(_logger, stream, was, _options.Replicas);
        }
    }

    /// <summary>
    /// At start: sets the queue up if NATS answers within a few seconds, so that settings NATS
    /// cannot meet (nats_replicas above the cluster's size) stop the start with one line. NATS
    /// not reachable yet is no reason to stop: calls get 503 until it is.
    /// </summary>
    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        // A cluster with a node down cannot place a new stream's replicas either: give a node
        // that is restarting PlacementWait to come back before calling the cluster too small.
        var until = _time.GetUtcNow() + PlacementWait;
        while (true)
        {
            try
            {
                await ReadyAsync(cancellationToken, TimeSpan.FromSeconds(2));
                return;
            }
            catch (QueueUnavailableException e) when (e.InnerException is NatsJSApiException { Error.ErrCode: InsufficientResources } && _time.GetUtcNow() < until)
            {
                LogNotReadyAtStart(_logger, _options.Url, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), _time, cancellationToken);
            }
            catch (QueueUnavailableException e) when (e.InnerException is NatsJSApiException api && TooFewServers(api.Error))
            {
                throw new StartupException(e.Message, e);
            }
            catch (QueueUnavailableException e)
            {
                LogNotReadyAtStart(_logger, _options.Url, e.Message);
                return;
            }
        }
    }

    /// <summary>How long the start waits for a cluster to have nats_replicas servers up.</summary>
    private static readonly TimeSpan PlacementWait = TimeSpan.FromSeconds(30);

    public async Task<EnqueueResult> EnqueueAsync(JobRequest job, StoredBody body, CancellationToken cancellationToken)
    {
        // A connection to a node that was lost moves to another within a second or two: a caller
        // waits that out. NATS down altogether is a 503 after ReconnectWait.
        if (_resources is not null && !await ConnectedWithinAsync(ReconnectWait, cancellationToken))
        {
            throw new QueueUnavailableException($"not connected to NATS at {_options.Url}");
        }

        // A caller waits at most a second for a connection that is not there yet: then 503.
        var resources = await ReadyAsync(cancellationToken, TimeSpan.FromSeconds(1));
        var until = _time.GetUtcNow() + AcceptWait;
        // Set only once the key is ours: a failure must never delete the key of the call that holds it.
        string? idempotencyKey = null;
        var recordCreated = false;
        try
        {
            if (job.IdempotencyKey is { } key)
            {
                var keyName = "idem." + job.Function + "." + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..40];
                // The key's value names the call, the request it was made for and the call's token:
                // "{id}\n{hash}\n{token}" (a key stored before tokens holds the id alone).
                var value = $"{job.CallId}\n{job.RequestHash}\n{job.Token}";
                var claimed = await PersistAsync(token => CreateAsync(resources, keyName, Encoding.UTF8.GetBytes(value), token), until);
                var holder = claimed ? value : await PersistAsync(async token => Encoding.UTF8.GetString((await resources.Calls.GetEntryAsync<byte[]>(keyName, cancellationToken: token)).Value ?? []), until);
                if (holder != value)
                {
                    var parts = holder.Split('\n');
                    return parts.Length == 3 && parts[1].Length > 0 && parts[1] != job.RequestHash
                        ? new EnqueueResult(job.CallId, EnqueueStatus.KeyReused)
                        : new EnqueueResult(parts[0], EnqueueStatus.Replayed, parts.Length == 3 && parts[2].Length > 0 ? parts[2] : null);
                }

                idempotencyKey = keyName;
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
                TraceParent = Tracing.TraceHeaders.Read(job.Headers)?.TraceParent,
                Token = job.Token,
            };
            var created = await PersistAsync(token => CreateAsync(resources, CallKey(job.CallId), Serialize(record), token), until);
            if (!created && !await IsOursAsync(resources, record, until))
            {
                await ForgetAsync(resources, idempotencyKey, null);
                return new EnqueueResult(job.CallId, EnqueueStatus.CallIdTaken);
            }

            recordCreated = true;
            string? bodyObject = null;
            if (body.FilePath is not null)
            {
                bodyObject = job.CallId + ".request";
                // A big body may take longer than one attempt's timeout: it gets all the time left.
                await PersistAsync(async token =>
                {
                    await using var stream = body.Open();
                    return await resources.Bodies.PutAsync(bodyObject, stream, leaveOpen: false, cancellationToken: token);
                }, until, attemptTimeout: until - _time.GetUtcNow());
            }

            var message = new NatsJobMessage(job.CallId, job.Function, job.Method, job.Path, job.Query,
                job.Headers.Select(h => new[] { h.Key, h.Value }).ToArray(), job.CallbackUrl?.AbsoluteUri, job.MaxAttempts,
                body.FilePath is null ? body.Inline : null, bodyObject, body.Length);
            var payload = JsonSerializer.SerializeToUtf8Bytes(message, NatsJson.Default.NatsJobMessage);
            // Nats-Msg-Id makes a publish repeated after a lost answer a duplicate the stream drops,
            // and the stream says so: that is stored. It names this accept, not only the call id,
            // which a caller may send again once a failed accept let it go.
            var headers = new NatsHeaders { ["Nats-Msg-Id"] = job.CallId + "." + record.CreatedAt.ToString(CultureInfo.InvariantCulture) };
            var ack = await PersistAsync(token => _js.PublishAsync(Subject(job.Function), payload, headers: headers, cancellationToken: token), until);
            if (ack.Error is { } refused)
            {
                throw new NatsJSApiException(refused);
            }

            body.DeleteFile();
            CountAccepted(job.Function, body.Length);
            return new EnqueueResult(job.CallId, EnqueueStatus.Stored, job.Token);
        }
        catch (Exception e) when (e is NatsException or OperationCanceledException)
        {
            await ForgetAsync(resources, idempotencyKey, recordCreated ? CallKey(job.CallId) : null);
            throw new QueueUnavailableException($"NATS did not confirm the call: {e.Message}", e);
        }
    }

    /// <summary>
    /// How long an accept waits out JetStream electing a new leader for a stream whose leader was
    /// lost (4 to 9 s measured with nats-server 2.9) before the caller gets a 503.
    /// </summary>
    private static readonly TimeSpan AcceptWait = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan ReconnectWait = TimeSpan.FromSeconds(3);

    private async Task<bool> ConnectedWithinAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        var until = _time.GetUtcNow() + wait;
        while (_connection.ConnectionState != NatsConnectionState.Open)
        {
            if (_time.GetUtcNow() >= until)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), _time, cancellationToken);
        }

        return true;
    }

    /// <summary>
    /// Runs one write of an accept, again while the stream that takes it has no leader (no
    /// answer, no responders, JetStream unavailable), until <paramref name="until"/>. Each step is
    /// safe to repeat: creates are checked against what is there, the publish carries its id.
    /// </summary>
    private async Task<T> PersistAsync<T>(Func<CancellationToken, ValueTask<T>> step, DateTimeOffset until, TimeSpan? attemptTimeout = null)
    {
        while (true)
        {
            using var attempt = new CancellationTokenSource(attemptTimeout is { } given && given > AttemptTimeout ? given : AttemptTimeout);
            try
            {
                return await step(attempt.Token);
            }
            catch (Exception e) when (IsElection(e) && _time.GetUtcNow() + TimeSpan.FromMilliseconds(250) < until)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), _time);
            }
        }
    }

    private static bool IsElection(Exception e) => e is OperationCanceledException or NatsNoRespondersException or NatsJSPublishNoResponseException
        or NatsJSApiNoResponseException or NatsTimeoutException or NatsJSTimeoutException or NatsJSApiException { Error.Code: 503 }
        or NatsKVKeyNotFoundException
        || (e is QueueUnavailableException && e.InnerException is { } inner && IsElection(inner));

    /// <summary>
    /// True when the key was made; false when it was there already. Anything else is thrown. (A
    /// create that fails for any reason reads the key, and "not found" is all it then reports: the
    /// write may have failed on a lost leader, or a replica still catching up may have answered the
    /// read. Either way, try again: <see cref="IsElection"/> takes it for a passing fault.)
    /// </summary>
    private static async ValueTask<bool> CreateAsync(Resources resources, string key, byte[] value, CancellationToken cancellationToken)
    {
        var result = await resources.Calls.TryCreateAsync(key, value, cancellationToken: cancellationToken);
        return result.Success || (result.Error is NatsKVCreateException or NatsKVWrongLastRevisionException ? false : throw result.Error);
    }

    /// <summary>After a create whose answer was lost, the record there may be our own.</summary>
    private async Task<bool> IsOursAsync(Resources resources, NatsCallRecord record, DateTimeOffset until)
    {
        while (true)
        {
            var (stored, _) = await PersistAsync(token => new ValueTask<(NatsCallRecord?, ulong)>(ReadRecordAsync(resources, record.CallId, token)), until);
            if (stored is not null)
            {
                return stored.CreatedAt == record.CreatedAt && stored.Function == record.Function && stored.CallbackUrl == record.CallbackUrl && stored.Token == record.Token;
            }

            // The create found it, so it is there: the replica that answered has not caught up.
            if (_time.GetUtcNow() >= until)
            {
                throw new QueueUnavailableException($"NATS said call {record.CallId} exists, and no replica showed it within {DurationParser.Format(AcceptWait)}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), _time);
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
                // Short: the caller is waiting for its 503, and NATS just failed us.
                using var timeout = new CancellationTokenSource(AttemptTimeout);
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

    [LoggerMessage(EventId = 900, Level = LogLevel.Information, Message = "NATS queue ready at {Url}: stream {Stream}, consumer {Consumer}, bucket {Bucket}, replicas {Replicas}")]
    private static partial void LogReady(ILogger logger, string url, string stream, string consumer, string bucket, int replicas);

    [LoggerMessage(EventId = 902, Level = LogLevel.Warning, Message = "NATS queue: stream {Stream} had {Was} replicas; changed to nats_replicas={Now}")]
    private static partial void LogReplicasChanged(ILogger logger, string stream, int was, int now);

    [LoggerMessage(EventId = 903, Level = LogLevel.Warning, Message = "NATS queue not ready at start ({Url}): {Error}; async calls get 503 until it is")]
    private static partial void LogNotReadyAtStart(ILogger logger, string url, string error);

    [LoggerMessage(EventId = 901, Level = LogLevel.Warning, Message = "NATS queue: {Error}")]
    private static partial void LogProblem(ILogger logger, string error);
}
