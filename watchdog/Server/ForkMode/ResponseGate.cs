using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using Fwatchdog.Configuration;
using Fwatchdog.Execution;
using Fwatchdog.Streaming;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Server.ForkMode;

/// <summary>
/// Holds the function's output back until the process exits or the output passes
/// <c>response_buffer_bytes</c>, so a short failing call gets a true 500 instead of a 200 that
/// already went out (headers before bytes). Past the threshold it streams; a failure after that
/// aborts the connection so the client never sees a clean 200 for a failed call. What it sends
/// goes through a <see cref="ResponseSpool"/>, so a caller that is still sending never stops the
/// process from writing.
/// </summary>
internal sealed partial class ResponseGate : IAsyncDisposable
{
    private readonly HttpContext _context;
    private readonly CallAbort _abort;
    private readonly WatchdogOptions _settings;
    private readonly string _callId;
    private readonly long _startTimestamp;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly ResponseSpool _spool;
    private byte[] _pending;
    private int _pendingLength;
    private bool _cgiPending;
    private CgiHeaderBlock? _cgi;
    private bool _committed;
    private bool _broken;
    private bool _bodyless;

    public ResponseGate(HttpContext context, CallAbort abort, WatchdogOptions settings, string callId, long startTimestamp)
    {
        _context = context;
        _abort = abort;
        _settings = settings;
        _callId = callId;
        _startTimestamp = startTimestamp;
        _cgiPending = settings.CgiResponse;
        _pending = ArrayPool<byte>.Shared.Rent(Math.Max(settings.ResponseBufferBytes, 4096));
        _spool = new ResponseSpool(context.Response.BodyWriter, SpoolLimits.InTempFolder(settings.MaxSpoolBytes), abort.Token);
    }

    public long BytesWritten { get; private set; }

    public bool HasStarted => _committed;

    /// <summary>The whole response went out (the connection took its last byte).</summary>
    public bool Answered { get; private set; }

    /// <summary>Why the spool gave up (<see cref="FunctionOutcome.SpoolFull"/>), for the log.</summary>
    public string? SpoolError { get; private set; }

    /// <summary>The most output that waited for the caller at once, and the most of it on disk.</summary>
    public (long Bytes, long DiskBytes) Spooled => (_spool.PeakBytes, _spool.PeakDiskBytes);

    /// <summary>The caller's body has ended: from now on output waits for the caller to read.</summary>
    public void EndOfInput() => _spool.EndOfInput();

    /// <summary>Framing and hop-by-hop headers the function's CGI block tried to set (dropped).</summary>
    public IReadOnlyList<string> DroppedHeaders => _cgi?.Dropped ?? [];

    /// <summary>Output bytes not sent because the CGI status (204, 205, 304) has no body.</summary>
    public long DiscardedBytes { get; private set; }

    /// <summary>Copies one pipe (stdout, or stderr too with combine_output) into the response.</summary>
    public async Task PumpAsync(Stream source, CancellationToken cancellationToken)
    {
        var chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = await source.ReadAsync(chunk, cancellationToken)) > 0)
            {
                await WriteAsync(chunk.AsMemory(0, read));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // The runner gave up on the pipes (a holder could not be stopped) and the call ended.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    public async Task WriteAsync(ReadOnlyMemory<byte> data)
    {
        await _lock.WaitAsync();
        try
        {
            if (_broken)
            {
                return; // keep draining so the process is not blocked on a full pipe
            }

            if (_committed)
            {
                await SendAsync(data);
                return;
            }

            if (_pendingLength + data.Length <= _settings.ResponseBufferBytes || _cgiPending)
            {
                Append(data.Span);
                if (_cgiPending)
                {
                    TryCompleteCgiBlock(endOfOutput: false);
                }

                if (_cgiPending || _broken || _pendingLength <= _settings.ResponseBufferBytes)
                {
                    return;
                }

                data = ReadOnlyMemory<byte>.Empty;
            }

            // Past the threshold: the call looks healthy so far, so commit to success and stream.
            Commit(_cgi?.Status ?? StatusCodes.Status200OK, contentLength: null, _pendingLength > 0 ? _pending.AsSpan(0, _pendingLength) : data.Span);
            await SendAsync(_pending.AsMemory(0, _pendingLength));
            _pendingLength = 0;
            await SendAsync(data);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Ends the response once the run is over.</summary>
    public async Task FinishAsync(FunctionResult result, string? stderrTail)
    {
        await _lock.WaitAsync();
        try
        {
            if (_cgiPending && result.IsSuccess)
            {
                TryCompleteCgiBlock(endOfOutput: true);
            }

            var outcome = _broken && _abort.Reason is { } reason ? reason : result.Outcome;
            if (_committed)
            {
                if (outcome != FunctionOutcome.Succeeded || _broken)
                {
                    // Headers and some bytes already left with a 2xx status: the only honest
                    // thing left is to break the response so the client sees it failed.
                    _context.Abort();
                    return;
                }

                await CompleteAsync();
                return;
            }

            if (outcome == FunctionOutcome.Succeeded)
            {
                Commit(_cgi?.Status ?? StatusCodes.Status200OK, _pendingLength, _pending.AsSpan(0, _pendingLength));
                await SendAsync(_pending.AsMemory(0, _pendingLength));
                await CompleteAsync();
                return;
            }

            if (OutcomeStatus.For(outcome) is not { } status)
            {
                _context.Abort();
                return;
            }

            var message = outcome == FunctionOutcome.BadCgiResponse ? _cgiError : result.Message;
            // A failed run's output explains it, as with the classic watchdog ("exit status 3" and the
            // output): it is what was held back, so at most response_buffer_bytes.
            var output = outcome == FunctionOutcome.Failed ? _pending.AsMemory(0, _pendingLength) : ReadOnlyMemory<byte>.Empty;
            await WriteErrorAsync(status, OutcomeStatus.Reason(outcome), ErrorText(outcome, message), output, stderrTail);
            Answered = true;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            _context.Abort();
        }
        finally
        {
            _lock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _spool.DisposeAsync();
        ArrayPool<byte>.Shared.Return(_pending);
        _lock.Dispose();
    }

    /// <summary>Waits until the caller has taken every byte (under write_timeout), then ends the response.</summary>
    private async Task CompleteAsync()
    {
        if (!_broken)
        {
            await _spool.CompleteAsync(_abort.Token);
        }

        if (_broken)
        {
            _context.Abort();
            return;
        }

        await _context.Response.CompleteAsync();
        Answered = true;
    }

    private string ErrorText(FunctionOutcome outcome, string message) =>
        outcome switch
        {
            FunctionOutcome.TimedOut => $"exec_timeout ({DurationParser.Format(_settings.ExecTimeout)}) exceeded: the function process group was stopped",
            FunctionOutcome.ReadTimedOut => $"read_timeout ({DurationParser.Format(_settings.ReadTimeout)}) exceeded before the request body was received",
            FunctionOutcome.BodyTooLarge => $"request body is larger than max_request_bytes ({_settings.MaxRequestBytes} bytes)",
            FunctionOutcome.BadRequestBody => "the request body breaks HTTP/1.1 (bad chunked framing, or it ended early); the function's input was cut there",
            FunctionOutcome.ShuttingDown => "the watchdog is shutting down",
            _ => message,
        };

    private async Task WriteErrorAsync(int status, string reason, string text, ReadOnlyMemory<byte> output, string? stderrTail)
    {
        var response = _context.Response;
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        response.Headers[WatchdogHeaders.Reason] = reason;
        response.Headers[WatchdogHeaders.CallId] = _callId;
        response.Headers[WatchdogHeaders.Duration] = Elapsed();
        _committed = true;
        await response.WriteAsync(text + "\n");
        await response.Body.WriteAsync(output);
        if (!string.IsNullOrEmpty(stderrTail))
        {
            var separator = output.IsEmpty || output.Span[^1] == '\n' ? "" : "\n";
            await response.WriteAsync($"{separator}--- stderr (tail) ---\n{stderrTail}\n");
        }
    }

    private void Commit(int status, long? contentLength, ReadOnlySpan<byte> firstBytes)
    {
        var response = _context.Response;
        response.StatusCode = status;
        _bodyless = CgiHeaderBlock.IsBodyless(status);

        // Sniffed only when nothing else says, from bytes already held, and never for an empty
        // body (Go's server then sends no Content-Type either).
        response.ContentType = _settings.ContentType ?? NullIfEmpty(_context.Request.ContentType)
            ?? (_bodyless || firstBytes.IsEmpty ? null : ContentSniffer.Detect(firstBytes));
        if (_cgi is not null)
        {
            foreach (var (name, value) in _cgi.Headers)
            {
                if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
                {
                    response.ContentType = value; // the script's own choice beats every default
                    continue;
                }

                response.Headers.Append(name, value);
            }
        }

        response.Headers[WatchdogHeaders.CallId] = _callId;
        response.Headers[WatchdogHeaders.Duration] = Elapsed();
        response.ContentLength = _bodyless ? null : contentLength;
        _committed = true;
    }

    private async Task SendAsync(ReadOnlyMemory<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        if (_bodyless)
        {
            DiscardedBytes += data.Length; // a 204, 205 or 304 has no body: sending one would break the framing
            return;
        }

        try
        {
            _spool.Write(data.Span);
            await _spool.FlushAsync(_abort.Token);
            BytesWritten += data.Length;
        }
        catch (SpoolFullException ex)
        {
            _broken = true;
            SpoolError = ex.Message;
            _abort.Trigger(FunctionOutcome.SpoolFull);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            _broken = true;
            _abort.Trigger(FunctionOutcome.ClientGone);
        }
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        if (_pendingLength + data.Length > _pending.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_pending.Length * 2, _pendingLength + data.Length));
            _pending.AsSpan(0, _pendingLength).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_pending);
            _pending = bigger;
        }

        data.CopyTo(_pending.AsSpan(_pendingLength));
        _pendingLength += data.Length;
    }

    private string Elapsed() =>
        Stopwatch.GetElapsedTime(_startTimestamp).TotalSeconds.ToString("F6", CultureInfo.InvariantCulture);

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
