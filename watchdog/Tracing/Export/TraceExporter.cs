using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Fwatchdog.Tracing;

/// <summary>
/// Exports the spans of <see cref="Spans.Source"/> with the OpenTelemetry SDK and its OTLP
/// exporter. Not in the watchdog-only build: the SDK makes that binary half as large again, and
/// its start-up and idle memory grow with it (BENCHMARKS.md, tracing).
/// </summary>
internal static class TraceExporter
{
    /// <summary>Starts exporting; disposing the provider sends what is left.</summary>
    public static IDisposable? Start(TraceExport export, string defaultServiceName)
    {
        var resource = ResourceBuilder.CreateEmpty()
            .AddService(export.ServiceName ?? defaultServiceName, serviceVersion: typeof(TraceExporter).Assembly.GetName().Version?.ToString(3))
            .AddAttributes(export.ResourceAttributes);
        return Sdk.CreateTracerProviderBuilder()
            .AddSource(Spans.SourceName)
            .SetResourceBuilder(resource)
            .SetSampler(Sampler(export))
            .AddOtlpExporter(otlp =>
            {
                otlp.Endpoint = export.Endpoint;
                otlp.Protocol = export.Grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                otlp.BatchExportProcessorOptions.ScheduledDelayMilliseconds = export.ScheduleDelayMs;
            })
            .Build();
    }

    private static Sampler Sampler(TraceExport export) => export.Sampler switch
    {
        "always_on" => new AlwaysOnSampler(),
        "always_off" => new AlwaysOffSampler(),
        "traceidratio" => new TraceIdRatioBasedSampler(export.SamplerRatio),
        "parentbased_always_off" => new ParentBasedSampler(new AlwaysOffSampler()),
        "parentbased_traceidratio" => new ParentBasedSampler(new TraceIdRatioBasedSampler(export.SamplerRatio)),
        _ => new ParentBasedSampler(new AlwaysOnSampler()),
    };
}
