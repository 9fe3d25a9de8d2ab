using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Server.HttpMode;

/// <summary>
/// Relays one output stream of the long-lived mode=http process to the log, one entry per line,
/// tagged <c>stdout</c> or <c>stderr</c>; with <c>prefix_logs=false</c> the raw line goes to our
/// own stdout or stderr (JSON logs stay parseable). Lines longer than 16 KiB are split, never dropped.
/// </summary>
internal sealed partial class UpstreamLogRelay(ILogger logger, string stream, bool prefixLogs)
{
    private const int MaxLine = 16 * 1024;

    public async Task PumpAsync(Stream source, CancellationToken cancellationToken)
    {
        var reader = PipeReader.Create(source, new StreamPipeReaderOptions(bufferSize: 4096, leaveOpen: true));
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(cancellationToken);
                var buffer = read.Buffer;
                while (TryTakeLine(ref buffer, read.IsCompleted, out var line))
                {
                    Emit(line);
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The runner gave up on the pipes.
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    private static bool TryTakeLine(ref ReadOnlySequence<byte> buffer, bool final, out ReadOnlySequence<byte> line)
    {
        if (buffer.PositionOf((byte)'\n') is { } newline)
        {
            line = buffer.Slice(0, newline);
            buffer = buffer.Slice(buffer.GetPosition(1, newline));
            return true;
        }

        if (buffer.Length >= MaxLine || (final && !buffer.IsEmpty))
        {
            line = buffer.Slice(0, Math.Min(buffer.Length, MaxLine));
            buffer = buffer.Slice(line.End);
            return true;
        }

        line = default;
        return false;
    }

    private void Emit(ReadOnlySequence<byte> line)
    {
        var text = Encoding.UTF8.GetString(line).TrimEnd('\r');
        if (prefixLogs)
        {
            LogLine(logger, stream, text);
        }
        else if (stream == "stdout")
        {
            Console.Out.WriteLine(text);
        }
        else
        {
            Console.Error.WriteLine(text);
        }
    }

    [LoggerMessage(EventId = 503, Level = LogLevel.Information, Message = "{Stream}: {Line}")]
    private static partial void LogLine(ILogger logger, string stream, string line);
}
