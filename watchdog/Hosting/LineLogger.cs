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
/// builds at start-up) cost every function container about 2 ms and 1.5 MB at start (issue 14).
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
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var line = new StringBuilder(128)
                .Append(DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ ", CultureInfo.InvariantCulture))
                .Append(Level(logLevel)).Append(": ").Append(category).Append('[').Append(eventId.Id.ToString(CultureInfo.InvariantCulture)).Append("] ");
            AppendFolded(line, formatter(state, exception));
            if (exception is not null)
            {
                line.Append(' ');
                AppendFolded(line, exception.ToString());
            }

            output.Write(line.Append('\n').ToString());
        }

        private static void AppendFolded(StringBuilder line, string text)
        {
            var start = line.Length;
            line.Append(text);
            line.Replace("\r\n", " ", start, line.Length - start).Replace('\n', ' ', start, line.Length - start);
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
