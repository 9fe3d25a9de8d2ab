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

    public long BytesRead { get; private set; }

    /// <summary>
    /// Copies the body into <paramref name="stdin"/> until it ends, the child stops taking it or
    /// <paramref name="stop"/> fires (the child exited); in the last two cases the rest is left to <see cref="RestAsync"/>.
    /// </summary>
    public async Task WriteAsync(Stream stdin, CancellationToken stop)
    {
        _feeding = true;
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        byte[] encoded = marshal ? ArrayPool<byte>.Shared.Rent(Base64.GetMaxEncodedToUtf8Length(ChunkSize + 2)) : [];
        var carry = 0;
        try
        {
            if (marshal)
            {
                await stdin.WriteAsync(MarshalPrefix(request), stop);
            }

            while (true)
            {
                var pending = request.Body.ReadAsync(buffer.AsMemory(carry, ChunkSize - carry), _reading.Token).AsTask();
                try
                {
                    await pending.WaitAsync(stop);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested && !pending.IsCompleted)
                {
                    // The child is gone and a read is under way: it goes on, into the bin.
                    _rest = DiscardAsync(pending, buffer);
                    buffer = null;
                    return;
                }
                catch (Exception) when (pending.IsCompleted)
                {
                    // The read itself failed (read_timeout, max_request_bytes, the caller left): said below.
                }

                var read = await ReadOrFailAsync(pending);
                if (read < 0)
                {
                    return;
                }

                BytesRead += read;
                if (!marshal)
                {
                    if (read == 0)
                    {
                        endOfInput();
                        return;
                    }

                    await stdin.WriteAsync(buffer.AsMemory(0, read), stop);
                    continue;
                }

                var final = read == 0;
                var available = carry + read;
                Base64.EncodeToUtf8(buffer.AsSpan(0, available), encoded, out var consumed, out var written, isFinalBlock: final);
                await stdin.WriteAsync(encoded.AsMemory(0, written), stop);
                carry = available - consumed;
                buffer.AsSpan(consumed, carry).CopyTo(buffer);
                if (final)
                {
                    endOfInput();
                    await stdin.WriteAsync("\"}}"u8.ToArray(), stop);
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
            if (buffer is not null && _rest is null && !_ended)
            {
                _rest = DiscardAsync(null, buffer);
                buffer = null;
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            if (encoded.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(encoded);
            }

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
