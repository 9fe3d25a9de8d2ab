namespace Fwatchdog.Tracing;

/// <summary>
/// The watchdog-only build propagates trace context but exports no spans: the OpenTelemetry SDK
/// would make the binary every function image carries half as large again, and its start-up and
/// idle memory grow with it (BENCHMARKS.md, tracing). The full fwatchdog binary exports.
/// </summary>
internal static class TraceExporter
{
    /// <summary>Null: nothing is exported (the app says so at start).</summary>
    public static IDisposable? Start(TraceExport export, string defaultServiceName) => null;
}
