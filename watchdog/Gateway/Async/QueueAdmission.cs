using System.Collections.Concurrent;
using Fwatchdog.Gateway.Functions;
using Fwatchdog.Gateway.Queue;

namespace Fwatchdog.Gateway.Async;

/// <summary>
/// Whether there is room for one more async call before its body is read: under its function's
/// <c>max_queued</c> and <c>max_queued_bytes</c> (stack file, else <c>async_max_queued</c> and
/// <c>async_max_queued_bytes</c>), and under <c>async_max_disk_bytes</c> for data_dir. Reading a
/// function's usage and reserving room are one step per function on this gateway, so accepts
/// racing each other cannot pass a bound together; the reservation lasts until the call is stored
/// (the queue counts it from then on) or given up. Gateways sharing NATS each see the stream's
/// count, but not each other's reservations: across gateways a bound may be passed by the calls
/// accepted at the same moment.
/// </summary>
internal sealed class QueueAdmission(GatewayOptions options, FunctionRegistry registry, IJobQueue queue, DiskBudget disk)
{
    /// <summary>Retry-After of a 429: calls of the function have to finish first.</summary>
    public static readonly TimeSpan QueueFullRetry = TimeSpan.FromSeconds(5);

    /// <summary>Retry-After of a 507: finished calls leave data_dir at the sweep (once a minute) after async_retention.</summary>
    public static readonly TimeSpan StorageFullRetry = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a function's measured usage is reused: an accept then costs no queue read, and a
    /// burst of accepts one read per function per this time. The calls stored since are added, and
    /// the calls finished since are not subtracted, so a stale figure only errs towards refusing,
    /// and a refusal is always decided on a fresh one.
    /// </summary>
    private static readonly TimeSpan UsageReuse = TimeSpan.FromMilliseconds(250);

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _turns = new(StringComparer.Ordinal);
    private readonly Dictionary<string, QueueUsage> _reserved = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Measured> _measured = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = TimeProvider.System;

    /// <summary>A function's usage as the queue last said, when, and what this gateway stored since.</summary>
    private sealed record Measured(QueueUsage Usage, long At, QueueUsage StoredSince);

    /// <summary>
    /// Reserves room for a call of <paramref name="function"/> whose body is <paramref name="bytes"/>
    /// (the most it may be when its length is not known), or says why there is none. A queue that
    /// cannot be asked throws <see cref="QueueUnavailableException"/>.
    /// </summary>
    public async Task<Admission> AdmitAsync(string function, long bytes, CancellationToken cancellationToken)
    {
        var definition = registry.Find(function);
        var maxCalls = definition?.MaxQueued ?? options.AsyncMaxQueued;
        var maxBytes = definition?.MaxQueuedBytes ?? options.AsyncMaxQueuedBytes;
        if (maxBytes > 0 && bytes > maxBytes)
        {
            return Admission.Refused(GatewayFailure.QueueFull, QueueFullRetry,
                $"the body ({bytes} bytes) is larger than {function}'s max_queued_bytes ({maxBytes}); nothing was queued");
        }

        if (!disk.TryReserve(bytes, out var used))
        {
            return Admission.Refused(GatewayFailure.StorageFull, StorageFullRetry,
                $"data_dir holds {used} bytes and this call would pass async_max_disk_bytes ({disk.Budget}); nothing was queued, retry once finished calls are removed");
        }

        var admission = new Admission(this, function, bytes);
        if (maxCalls == 0 && maxBytes == 0)
        {
            return admission;
        }

        var turn = _turns.GetOrAdd(function, _ => new SemaphoreSlim(1, 1));
        try
        {
            // Inside the try: a caller that leaves while it waits (the wait throws) must give its room back.
            await turn.WaitAsync(cancellationToken);
        }
        catch
        {
            admission.Dispose();
            throw;
        }

        try
        {
            string? refusal = null;
            for (var fresh = false; ; fresh = true)
            {
                var usage = await UsageAsync(function, fresh, cancellationToken);
                lock (_reserved)
                {
                    var reserved = _reserved.GetValueOrDefault(function);
                    var calls = usage.Calls + reserved.Calls;
                    var queuedBytes = usage.Bytes + reserved.Bytes;
                    refusal = null;
                    if (maxCalls > 0 && calls + 1 > maxCalls)
                    {
                        refusal = $"{function} has {calls} unfinished async calls, its max_queued is {maxCalls}; nothing was queued, retry once some have finished";
                    }
                    else if (maxBytes > 0 && queuedBytes + bytes > maxBytes)
                    {
                        refusal = $"{function}'s unfinished async calls hold {queuedBytes} bytes and this call ({bytes} bytes) would pass its max_queued_bytes ({maxBytes}); nothing was queued, retry once some have finished";
                    }
                }

                if (refusal is null || fresh)
                {
                    break;
                }
            }

            if (refusal is not null)
            {
                admission.Dispose();
                return Admission.Refused(GatewayFailure.QueueFull, QueueFullRetry, refusal);
            }

            lock (_reserved)
            {
                var reserved = _reserved.GetValueOrDefault(function);
                _reserved[function] = new QueueUsage(reserved.Calls + 1, reserved.Bytes + bytes);
                admission.Counted = true;
            }
        }
        catch
        {
            admission.Dispose();
            throw;
        }
        finally
        {
            turn.Release();
        }

        return admission;
    }

    /// <summary>
    /// The function's unfinished calls and their bytes: the queue's figure when <paramref name="fresh"/>
    /// or when the last one is older than <see cref="UsageReuse"/>, else the last one plus the calls
    /// this gateway stored since. Called within the function's turn.
    /// </summary>
    private async Task<QueueUsage> UsageAsync(string function, bool fresh, CancellationToken cancellationToken)
    {
        Measured? last;
        lock (_reserved)
        {
            last = _measured.GetValueOrDefault(function);
            if (!fresh && last is not null && _time.GetElapsedTime(last.At) < UsageReuse)
            {
                return new QueueUsage(last.Usage.Calls + last.StoredSince.Calls, last.Usage.Bytes + last.StoredSince.Bytes);
            }
        }

        var at = _time.GetTimestamp();
        var usage = await queue.UsageAsync(function, cancellationToken);
        lock (_reserved)
        {
            // Calls stored while the queue was read may be in its figure or not: they stay counted
            // (twice at worst, which only errs towards refusing), and only those counted before go.
            var since = _measured.GetValueOrDefault(function)?.StoredSince ?? default;
            var before = last?.StoredSince ?? default;
            var kept = new QueueUsage(since.Calls - before.Calls, since.Bytes - before.Bytes);
            _measured[function] = new Measured(usage, at, kept);
            return new QueueUsage(usage.Calls + kept.Calls, usage.Bytes + kept.Bytes);
        }
    }

    private void Release(Admission admission)
    {
        disk.Release(admission.Bytes, admission.IsStored);
        if (!admission.Counted)
        {
            return;
        }

        lock (_reserved)
        {
            if (admission.IsStored && _measured.GetValueOrDefault(admission.Function) is { } measured)
            {
                var since = measured.StoredSince;
                _measured[admission.Function] = measured with { StoredSince = new QueueUsage(since.Calls + 1, since.Bytes + admission.Bytes) };
            }

            var reserved = _reserved.GetValueOrDefault(admission.Function);
            var left = new QueueUsage(reserved.Calls - 1, reserved.Bytes - admission.Bytes);
            if (left.Calls <= 0)
            {
                _reserved.Remove(admission.Function);
            }
            else
            {
                _reserved[admission.Function] = left;
            }
        }
    }

    /// <summary>Room held for one accept (dispose when it is stored or given up), or a refusal.</summary>
    internal sealed class Admission : IDisposable
    {
        private readonly QueueAdmission? _owner;
        private int _released;

        public Admission(QueueAdmission owner, string function, long bytes)
        {
            _owner = owner;
            Function = function;
            Bytes = bytes;
        }

        private Admission(GatewayFailure failure, TimeSpan retryAfter, string reason)
        {
            Function = "";
            Failure = failure;
            RetryAfter = retryAfter;
            Reason = reason;
        }

        public string Function { get; }

        public long Bytes { get; }

        public GatewayFailure Failure { get; }

        public TimeSpan RetryAfter { get; }

        public string Reason { get; } = "";

        public bool Counted { get; set; }

        public bool IsStored { get; private set; }

        public static Admission Refused(GatewayFailure failure, TimeSpan retryAfter, string reason) => new(failure, retryAfter, reason);

        /// <summary>The call was stored: its bytes are in data_dir now.</summary>
        public void Stored() => IsStored = true;

        public void Dispose()
        {
            if (_owner is not null && Interlocked.Exchange(ref _released, 1) == 0)
            {
                _owner.Release(this);
            }
        }
    }
}
