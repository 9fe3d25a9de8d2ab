using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Hosting;

/// <summary>
/// Logs one line per event on stdout, the way the SimpleConsole formatter writes with
/// <c>SingleLine</c> and UTC timestamps: <c>2026-11-23T15:30:00.123Z info: Category[eventId] message</c>,
/// newlines in the message or exception folded into spaces. It writes synchronously, so nothing
/// logged before exit is lost. It replaces AddSimpleConsole, whose options and formatter set-up
/// (three formatters, each with options monitored through generic types the NativeAOT runtime
/// builds at start-up) cost every function container about 2 ms and 1.5 MB at start.
/// </summary>
internal sealed class LineLoggerProvider(TextWriter output) : ILoggerProvider
{
    private readonly TextWriter _output = output;

    public LineLoggerProvider()
        : this(Console.Out)
    {
    }

    public ILogger CreateLogger(string categoryName) => new LineLogger(categoryName, _output);

    public void Dispose() => _output.Flush();

    private sealed class LineLogger(string category, TextWriter output) : ILogger
    {
        [ThreadStatic]
        private static StringBuilder? t_line;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            // Formatted before the line is taken: a formatter that logs gets a builder of its own.
            var message = formatter(state, exception);
            var error = exception?.ToString();
            var line = (t_line ??= new StringBuilder(256)).Clear();
            t_line = null;
            AppendTimestamp(line, DateTime.UtcNow);
            line.Append(Level(logLevel)).Append(": ").Append(category).Append('[').Append(eventId.Id.ToString(CultureInfo.InvariantCulture)).Append("] ");
            AppendFolded(line, message);
            if (error is not null)
            {
                line.Append(' ');
                AppendFolded(line, error);
            }

            output.Write(line.Append('\n').ToString());
            if (line.Capacity <= 4096)
            {
                t_line = line;
            }
        }

        private static void AppendFolded(StringBuilder line, string text)
        {
            var start = line.Length;
            line.Append(text);
            if (text.AsSpan().IndexOfAny('\r', '\n') >= 0)
            {
                line.Replace("\r\n", " ", start, line.Length - start).Replace('\n', ' ', start, line.Length - start);
            }
        }

        /// <summary>
        /// yyyy-MM-ddTHH:mm:ss.fffZ and a space: the round-trip ("O") format, which has its own fast
        /// path, cut to milliseconds (the custom-format parser was 1% of a mode=http call's CPU).
        /// </summary>
        private static void AppendTimestamp(StringBuilder line, DateTime utc)
        {
            Span<char> text = stackalloc char[33];
            utc.TryFormat(text, out _, "O", CultureInfo.InvariantCulture);
            text[23] = 'Z';
            text[24] = ' ';
            line.Append(text[..25]);
        }

        private static string Level(LogLevel level) => level switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            _ => "crit",
        };
    }
}
