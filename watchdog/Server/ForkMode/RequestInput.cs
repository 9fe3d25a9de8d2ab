using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using Fwatchdog.Execution;
using Fwatchdog.Streaming;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Server.ForkMode;

/// <summary>
/// Feeds the request body to the child's stdin as it arrives (never the whole body in memory),
/// under <c>read_timeout</c>. A child that stops reading its input, or exits, is normal: the rest
/// of the body is then read and thrown away (within <c>read_timeout</c>, at most
/// <see cref="SpoolLimits.MaxDiscardBytes"/> bytes), so a caller that sends everything before it reads still gets
/// the answer instead of a broken pipe. A body read is never cancelled half-way: the server could
/// not drain the body after that. With <c>marshal_request</c> the body is wrapped, still
/// streaming, in the classic JSON envelope.
/// </summary>
internal sealed class RequestInput(HttpRequest request, CallAbort abort, TimeSpan readTimeout, bool marshal, Action endOfInput) : IDisposable
{
    private const int ChunkSize = 64 * 1024;
    private readonly CancellationTokenSource _reading = Deadline(abort.Token, readTimeout);
    private readonly TaskCompletionSource _fed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _feeding;
    private bool _ended;
    private Task? _rest;

    /// <summary>With marshal_request: body bytes at the start of the read buffer not yet encoded (fewer than a 3-byte group).</summary>
    private int _carry;

    public long BytesRead { get; private set; }

    /// <summary>
    /// Copies the body into <paramref name="stdin"/> until it ends, the child stops taking it or
    /// <paramref name="stop"/> fires (the child exited); in the last two cases the rest is left to <see cref="RestAsync"/>.
    /// </summary>
    public async Task WriteAsync(Stream stdin, CancellationToken stop)
    {
        _feeding = true;
        byte[]? buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        byte[] encoded = marshal ? ArrayPool<byte>.Shared.Rent(Base64.GetMaxEncodedToUtf8Length(ChunkSize + 2)) : [];
        try
        {
            if (marshal)
            {
                await stdin.WriteAsync(MarshalPrefix(request), stop);
            }

            while (true)
            {
                var pending = request.Body.ReadAsync(buffer.AsMemory(_carry, ChunkSize - _carry), _reading.Token).AsTask();
                if (!await ReadEndsFirstAsync(pending, stop))
                {
                    // The child is gone and a read is under way: it goes on, into the bin.
                    _rest = DiscardAsync(pending, buffer);
                    buffer = null;
                    return;
                }

                var read = await ReadOrFailAsync(pending);
                if (read < 0 || !await (marshal ? WriteEncodedAsync(stdin, buffer, encoded, read, stop) : WriteRawAsync(stdin, buffer, read, stop)))
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // EPIPE: the process exited or closed stdin before reading everything; or it exited
            // while a write waited. Not an error: plenty of functions never read their input (the
            // classic watchdog agrees). The caller may still be sending: read the rest, unless
            // the end was already seen.
            buffer = DiscardRestUnlessEnded(buffer);
        }
        finally
        {
            ReturnBuffers(buffer, encoded);
            _fed.TrySetResult();
        }
    }

    /// <summary>
    /// Reads and throws away what is left of the body once the child no longer takes it (or was
    /// never started); completes when the body has ended, <c>read_timeout</c> passed, the call was
    /// aborted or <see cref="SpoolLimits.MaxDiscardBytes"/> bytes were thrown away.
    /// </summary>
    public async Task RestAsync()
    {
        if (_feeding && !await FeederEndsAsync())
        {
            return; // a stdin write that cannot be cancelled still holds the body; the call was aborted
        }

        if (_rest is null && !_ended)
        {
            _rest = DiscardAsync(null, ArrayPool<byte>.Shared.Rent(ChunkSize));
        }

        await (_rest ?? Task.CompletedTask);
    }

    public void Dispose() => _reading.Dispose();

    /// <summary>Body reads end at <c>read_timeout</c> from the start of the call, or when the call is aborted.</summary>
    private static CancellationTokenSource Deadline(CancellationToken abort, TimeSpan readTimeout)
    {
        var reading = CancellationTokenSource.CreateLinkedTokenSource(abort);
        if (readTimeout > TimeSpan.Zero)
        {
            reading.CancelAfter(readTimeout);
        }

        return reading;
    }

    private async Task<bool> FeederEndsAsync()
    {
        try
        {
            await _fed.Task.WaitAsync(abort.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// Waits for one read of the body while the child lives: false when <paramref name="stop"/>
    /// (the child exited) fired first and the read is still under way. A read that failed is
    /// true here: <see cref="ReadOrFailAsync"/> says why.
    /// </summary>
    private static async Task<bool> ReadEndsFirstAsync(Task<int> pending, CancellationToken stop)
    {
        try
        {
            await pending.WaitAsync(stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !pending.IsCompleted)
        {
            return false;
        }
        catch (Exception) when (pending.IsCompleted)
        {
            // The read itself failed (read_timeout, max_request_bytes, the caller left): said by ReadOrFailAsync.
        }

        return true;
    }

    /// <summary>Passes one read on to stdin as it came; false at the end of the body.</summary>
    private async Task<bool> WriteRawAsync(Stream stdin, byte[] buffer, int read, CancellationToken stop)
    {
        BytesRead += read;
        if (read == 0)
        {
            endOfInput();
            return false;
        }

        await stdin.WriteAsync(buffer.AsMemory(0, read), stop);
        return true;
    }

    /// <summary>
    /// Passes one read on to stdin as base64 inside the marshal_request envelope; the bytes that
    /// do not fill a 3-byte group wait at the start of the buffer for the next read. At the end of
    /// the body, closes the envelope and returns false.
    /// </summary>
    private async Task<bool> WriteEncodedAsync(Stream stdin, byte[] buffer, byte[] encoded, int read, CancellationToken stop)
    {
        BytesRead += read;
        var final = read == 0;
        var available = _carry + read;
        Base64.EncodeToUtf8(buffer.AsSpan(0, available), encoded, out var consumed, out var written, isFinalBlock: final);
        await stdin.WriteAsync(encoded.AsMemory(0, written), stop);
        _carry = available - consumed;
        buffer.AsSpan(consumed, _carry).CopyTo(buffer);
        if (!final)
        {
            return true;
        }

        endOfInput();
        await stdin.WriteAsync("\"}}"u8.ToArray(), stop);
        return false;
    }

    /// <summary>Hands <paramref name="buffer"/> to a discard of the rest of the body, unless one runs or the body has ended; returns what is left to give back.</summary>
    private byte[]? DiscardRestUnlessEnded(byte[]? buffer)
    {
        if (buffer is null || _rest is not null || _ended)
        {
            return buffer;
        }

        _rest = DiscardAsync(null, buffer);
        return null;
    }

    private static void ReturnBuffers(byte[]? buffer, byte[] encoded)
    {
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (encoded.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(encoded);
        }
    }

    /// <summary>The body bytes of one read, 0 at its end, or -1 when it failed (the call is aborted with the reason).</summary>
    private async Task<int> ReadOrFailAsync(Task<int> pending)
    {
        try
        {
            var read = await pending;
            if (read == 0)
            {
                _ended = true;
                endOfInput();
            }

            return read;
        }
        catch (OperationCanceledException) when (_reading.IsCancellationRequested && !abort.IsAborted)
        {
            abort.Trigger(FunctionOutcome.ReadTimedOut);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            abort.Trigger(FunctionOutcome.BodyTooLarge);
        }
        catch (Exception ex) when (RequestBodyErrors.IsMalformed(ex))
        {
            abort.Trigger(FunctionOutcome.BadRequestBody);
        }
        catch (Exception ex) when (ex is IOException or BadHttpRequestException or ConnectionResetException or OperationCanceledException)
        {
            abort.Trigger(FunctionOutcome.ClientGone);
        }

        _ended = true;
        endOfInput();
        return -1;
    }

    /// <summary>
    /// Reads and drops the rest of the body: a read already under way (<paramref name="pending"/>)
    /// first, then new reads, each within read_timeout from the start of the discard (30 s when
    /// read_timeout is 0), so a function that ran longer than read_timeout still lets its caller finish.
    /// </summary>
    private async Task DiscardAsync(Task<int>? pending, byte[] buffer)
    {
        long discarded = 0;
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(abort.Token);
        budget.CancelAfter(readTimeout > TimeSpan.Zero ? readTimeout : TimeSpan.FromSeconds(30));
        try
        {
            while (discarded < SpoolLimits.MaxDiscardBytes)
            {
                var read = await (pending ?? request.Body.ReadAsync(buffer, budget.Token).AsTask());
                pending = null;
                if (read == 0)
                {
                    _ended = true;
                    break;
                }

                BytesRead += read;
                discarded += read;
            }
        }
        catch (Exception ex) when (ex is IOException or BadHttpRequestException or ConnectionResetException or OperationCanceledException)
        {
            // Too slow, too large or gone: the answer does not depend on the rest of the body.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            endOfInput();
        }
    }

    private static byte[] MarshalPrefix(HttpRequest request)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteStartObject("header");
            foreach (var (name, values) in request.Headers)
            {
                if (name.Equals("Host", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                json.WriteStartArray(CanonicalHeaderName(name));
                foreach (var value in values)
                {
                    json.WriteStringValue(HeaderText.FromBytes(value ?? ""));
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
            json.WriteStartObject("body");
            json.WriteString("raw", "");
            json.Flush();
        }

        // Reopen the empty "raw" string so the base64 body can stream into it.
        stream.SetLength(stream.Length - 1);
        return stream.ToArray();
    }

    private static string CanonicalHeaderName(string name) =>
        string.Create(name.Length, name, static (span, source) =>
        {
            var upper = true;
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = upper ? char.ToUpperInvariant(source[i]) : char.ToLowerInvariant(source[i]);
                upper = source[i] == '-';
            }
        });
}
