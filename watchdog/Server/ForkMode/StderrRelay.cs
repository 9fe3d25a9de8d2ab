using System.Buffers;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Server.ForkMode;

/// <summary>
/// Forwards the child's stderr to the log line by line, tagged with the call id, and keeps the
/// last few KiB for <c>write_debug</c> error bodies. Unlike of-watchdog, a very long line is
/// split rather than ending the relay, and a last line without a newline is not dropped.
/// </summary>
internal sealed partial class StderrRelay(ILogger logger, string callId, bool prefixLogs)
{
    private const int MaxLine = 16 * 1024;
    private const int TailBytes = 4 * 1024;
    private readonly byte[] _tail = new byte[TailBytes];
    private long _total;

    public string Tail
    {
        get
        {
            var length = (int)Math.Min(_total, TailBytes);
            var start = (int)(_total % TailBytes);
            var bytes = new byte[length];
            for (var i = 0; i < length; i++)
            {
                bytes[i] = _tail[(start - length + i + TailBytes) % TailBytes];
            }

            return Encoding.UTF8.GetString(bytes).TrimEnd('\n');
        }
    }

    public async Task PumpAsync(Stream source, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxLine);
        var length = 0;
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(length, MaxLine - length), cancellationToken)) > 0)
            {
                Remember(buffer.AsSpan(length, read));
                length += read;
                var consumed = 0;
                int newline;
                while ((newline = buffer.AsSpan(consumed, length - consumed).IndexOf((byte)'\n')) >= 0)
                {
                    Emit(buffer.AsSpan(consumed, newline));
                    consumed += newline + 1;
                }

                if (consumed == 0 && length == MaxLine)
                {
                    Emit(buffer.AsSpan(0, length));
                    consumed = length;
                }

                buffer.AsSpan(consumed, length - consumed).CopyTo(buffer);
                length -= consumed;
            }
        }
        catch (OperationCanceledException)
        {
            // The runner gave up on the pipes.
        }
        finally
        {
            if (length > 0)
            {
                Emit(buffer.AsSpan(0, length));
            }

            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Remember(ReadOnlySpan<byte> data)
    {
        foreach (var b in data.Length > TailBytes ? data[^TailBytes..] : data)
        {
            _tail[_total++ % TailBytes] = b;
        }
    }

    private void Emit(ReadOnlySpan<byte> line)
    {
        var text = Encoding.UTF8.GetString(line).TrimEnd('\r');
        if (prefixLogs)
        {
            LogLine(logger, callId, text);
        }
        else
        {
            Console.Error.WriteLine(text);
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "[{CallId}] stderr: {Line}")]
    private static partial void LogLine(ILogger logger, string callId, string line);
}
