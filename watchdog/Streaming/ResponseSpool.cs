using System.Buffers;
using System.IO.Pipelines;

namespace Fwatchdog.Streaming;

/// <summary>
/// Sits between whatever produces a response body (a process's stdout, an upstream's answer) and
/// the caller's connection, so that a caller who sends its whole request before it reads the
/// response (Python's http.client and requests, most SDKs) cannot deadlock a function that writes
/// while it reads. While the caller's body is still arriving (<see cref="EndOfInput"/> not yet
/// called), a write the caller is not taking does not hold the producer: the bytes wait here,
/// in memory up to <see cref="SpoolLimits.MemoryBytes"/> and then in an unlinked temporary file,
/// and a sender hands them to the connection as the caller reads. A full-duplex caller (curl, the
/// gateway) reads as it sends: while it takes bytes, the producer waits for it as before (at most
/// <see cref="SpoolLimits.MemoryBytes"/> queue up, so a slow reader costs no disk); only when the
/// connection has taken nothing for <see cref="StallWindow"/> does output go to the file. Once the
/// caller's body has ended, the producer waits for the caller again (constant memory and disk),
/// exactly as without the spool. Past <see cref="SpoolLimits.MaxBytes"/> a write throws
/// <see cref="SpoolFullException"/>.
/// </summary>
internal sealed partial class ResponseSpool : IAsyncDisposable
{
    private const int SegmentSize = 64 * 1024;

    /// <summary>How long a caller may take no bytes while it sends before the output goes to the file instead of waiting for it.</summary>
    private static readonly TimeSpan StallWindow = TimeSpan.FromMilliseconds(250);

    private readonly PipeWriter _writer;
    private readonly SpoolLimits _limits;
    private readonly CancellationTokenSource _stopping;
    private readonly Lock _sync = new();
    private readonly Queue<Segment> _memory = new();
    private Segment? _tail;
    private long _memoryBytes;
    private SpoolFile? _file;
    private bool _sending; // a sender owns the writer (set before it starts: it may finish at once)
    private Task _sender = Task.CompletedTask;
    private Exception? _failure;
    private TaskCompletionSource? _progress;
    private volatile bool _inputEnded;
    private bool _callerReading = true;
    private bool _noFile;
    private bool _disposed;

    /// <param name="writer">The response body; the spool alone writes to it from now on.</param>
    /// <param name="limits">How much may wait, and where.</param>
    /// <param name="cancellationToken">Ends the sender (the call was aborted or timed out).</param>
    public ResponseSpool(PipeWriter writer, SpoolLimits limits, CancellationToken cancellationToken)
    {
        _writer = writer;
        _limits = limits;
        _stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _inputEnded = limits.MaxBytes == 0; // spooling off: the producer waits on the caller, as it always did
    }

    /// <summary>The most bytes that waited here at once.</summary>
    public long PeakBytes { get; private set; }

    /// <summary>The largest the spool file grew (its disk use).</summary>
    public long PeakDiskBytes => _file?.PeakBytes ?? 0;

    /// <summary>Bytes the producer wrote and no flush has been asked for yet.</summary>
    public long Pending
    {
        get
        {
            lock (_sync)
            {
                return _sending ? Queued : _writer.CanGetUnflushedBytes ? _writer.UnflushedBytes : 1;
            }
        }
    }

    private long Queued => _memoryBytes + (_file?.Length ?? 0);

    /// <summary>
    /// The producer may go on: the file is empty (so it is cut back and holds no disk) and memory
    /// is at most half full, so the next write (at most 64 KiB) still fits in memory: a caller
    /// that reads never has output go to the file.
    /// </summary>
    private bool HasRoom => (_file is null || _file.Length == 0) && _memoryBytes <= SpoolLimits.MemoryBytes / 2;

    /// <summary>Bytes held: memory, and the file's whole length (its disk use, read part included).</summary>
    private long Held => _memoryBytes + (_file?.Size ?? 0);

    /// <summary>The caller's request body has ended (or will not be read any more): from now on the producer waits for the caller.</summary>
    public void EndOfInput() => _inputEnded = true;

    /// <summary>Adds bytes to the response; nothing is sent before <see cref="FlushAsync"/>.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ThrowIfFailed();
            if (!_sending)
            {
                _writer.Write(data);
                return;
            }

            Enqueue(data);
        }
    }

    /// <summary>
    /// Sends what was written. While the caller's body is still arriving, this waits only on a
    /// caller that is taking bytes (and never for longer than it keeps taking them); afterwards it
    /// waits until the file is empty and memory at most half full.
    /// </summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ThrowIfFailed();
            if (_sending)
            {
                return _inputEnded ? WaitAsync(untilRoom: true, cancellationToken)
                    : _callerReading && !HasRoom ? WaitWhileReadingAsync(cancellationToken)
                    : ValueTask.CompletedTask;
            }

            var flush = _writer.FlushAsync(_inputEnded ? cancellationToken : _stopping.Token);
            if (flush.IsCompletedSuccessfully)
            {
                Check(flush.Result);
                return ValueTask.CompletedTask;
            }

            if (_inputEnded)
            {
                return AwaitFlushAsync(flush);
            }

            _sending = true;
            _sender = SendAsync(flush);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Sends everything written and waits until the connection has taken it all.</summary>
    public async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        await WaitAsync(untilRoom: false, cancellationToken);
        await FlushAsync(cancellationToken);
        await WaitAsync(untilRoom: false, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        bool sending;
        lock (_sync)
        {
            sending = _sending;
        }

        if (sending)
        {
            await _stopping.CancelAsync();
            _writer.CancelPendingFlush();
        }

        await _sender;

        lock (_sync)
        {
            _disposed = true;
            while (_memory.TryDequeue(out var segment))
            {
                ArrayPool<byte>.Shared.Return(segment.Buffer);
            }

            _tail = null;
            _memoryBytes = 0;
            _file?.Dispose();
        }

        _stopping.Dispose();
    }

    /// <summary>Waits until there is <see cref="HasRoom"/> (or, without <paramref name="untilRoom"/>, until the sender is done).</summary>
    private async ValueTask WaitAsync(bool untilRoom, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task progress;
            lock (_sync)
            {
                ThrowIfFailed();
                if (!_sending || (untilRoom && HasRoom))
                {
                    return;
                }

                progress = NextProgress();
            }

            await progress.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Waits for <see cref="HasRoom"/> as long as the sender hands over a piece at least every
    /// <see cref="StallWindow"/>, so the producer goes no faster than a caller that reads; a caller
    /// that takes nothing for that long is not waited for again until it takes something.
    /// </summary>
    private async ValueTask WaitWhileReadingAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task progress;
            lock (_sync)
            {
                ThrowIfFailed();
                if (!_sending || HasRoom)
                {
                    return;
                }

                progress = NextProgress();
            }

            try
            {
                await progress.WaitAsync(StallWindow, cancellationToken);
            }
            catch (TimeoutException)
            {
                lock (_sync)
                {
                    _callerReading = false;
                }

                return;
            }
        }
    }

    private async ValueTask AwaitFlushAsync(ValueTask<FlushResult> flush) => Check(await flush);

    /// <summary>The sender: waits out the flush the caller was not taking, then hands over what queued up meanwhile, oldest first.</summary>
    private async Task SendAsync(ValueTask<FlushResult> first)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(SegmentSize);
        try
        {
            Check(await first);
            while (true)
            {
                ReadOnlyMemory<byte> next;
                lock (_sync)
                {
                    _callerReading = true; // the flush before this one went through
                    Signal();
                    if (_disposed || !TryDequeue(buffer, out next))
                    {
                        _sending = false;
                        return;
                    }
                }

                _writer.Write(next.Span);
                Check(await _writer.FlushAsync(_stopping.Token));
            }
        }
        catch (Exception e)
        {
            lock (_sync)
            {
                _failure = e;
                _sending = false;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            lock (_sync)
            {
                Signal();
            }
        }
    }

    /// <summary>Completes at the sender's next step (call under the lock).</summary>
    private Task NextProgress() => (_progress ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Wakes whoever waits for room or for the end; the next waiter gets a fresh signal.</summary>
    private void Signal()
    {
        var progress = _progress;
        _progress = null;
        progress?.TrySetResult();
    }

    private void Enqueue(ReadOnlySpan<byte> data)
    {
        if (Held + data.Length > _limits.MaxBytes)
        {
            throw new SpoolFullException(
                $"the caller had not read {Queued + data.Length} bytes of the response while still sending its request, more than max_spool_bytes ({_limits.MaxBytes} bytes)");
        }

        if (_noFile || ((_file is null || _file.Length == 0) && _memoryBytes + data.Length <= SpoolLimits.MemoryBytes))
        {
            AppendToMemory(data);
        }
        else
        {
            try
            {
                (_file ??= SpoolFile.Create(_limits.Directory)).Append(data);
            }
            catch (SpoolFullException) when (_file is null)
            {
                // No spool file here (a read-only or missing TMPDIR): keep this write in memory
                // and wait for the caller from now on, as without a spool.
                _noFile = true;
                _inputEnded = true;
                AppendToMemory(data);
            }
        }

        PeakBytes = Math.Max(PeakBytes, Queued);
    }

    private void AppendToMemory(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_tail is not { Room: > 0 } tail)
            {
                tail = _tail = new Segment(ArrayPool<byte>.Shared.Rent(SegmentSize));
                _memory.Enqueue(tail);
            }

            var take = Math.Min(tail.Room, data.Length);
            data[..take].CopyTo(tail.Buffer.AsSpan(tail.Length));
            tail.Length += take;
            _memoryBytes += take;
            data = data[take..];
        }
    }

    /// <summary>The oldest waiting bytes: memory first (it is always older than the file's), copied into <paramref name="buffer"/>.</summary>
    private bool TryDequeue(byte[] buffer, out ReadOnlyMemory<byte> next)
    {
        if (_memory.TryDequeue(out var segment))
        {
            segment.Buffer.AsSpan(0, segment.Length).CopyTo(buffer);
            next = buffer.AsMemory(0, segment.Length);
            _memoryBytes -= segment.Length;
            if (ReferenceEquals(segment, _tail))
            {
                _tail = null;
            }

            ArrayPool<byte>.Shared.Return(segment.Buffer);
            return true;
        }

        if (_file is { Length: > 0 })
        {
            next = buffer.AsMemory(0, _file.Take(buffer));
            return true;
        }

        next = default;
        return false;
    }

    private void ThrowIfFailed()
    {
        if (_failure is not null)
        {
            throw _failure is SpoolFullException or IOException ? _failure : new IOException("the response could not be sent: " + _failure.Message, _failure);
        }
    }

    private static void Check(FlushResult result)
    {
        if (result.IsCanceled)
        {
            throw new OperationCanceledException("the response flush was cancelled");
        }
    }

    private sealed class Segment(byte[] buffer)
    {
        public byte[] Buffer { get; } = buffer;

        public int Length { get; set; }

        public int Room => SegmentSize - Length;
    }
}
