using System.Globalization;

namespace Fwatchdog.Tracing;

/// <summary>
/// Span export, read from the standard OpenTelemetry variables
/// (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/): off unless
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c> or
/// <c>OTEL_TRACES_EXPORTER=otlp</c> is set. Only then is the OpenTelemetry SDK touched
/// (<see cref="TraceExporter"/>), so a watchdog without them pays nothing for it. Where the spans
/// go is the operator's setting alone: nothing a caller sends changes it.
/// </summary>
internal sealed record TraceExport
{
    /// <summary>Where spans are sent: the traces URL itself (OTLP/HTTP) or the collector's address (gRPC).</summary>
    public required Uri Endpoint { get; init; }

    /// <summary><c>OTEL_EXPORTER_OTLP_PROTOCOL</c>: http/protobuf (the default, as the specification says) or grpc.</summary>
    public bool Grpc { get; init; }

    /// <summary><c>OTEL_SERVICE_NAME</c>; default fwatchdog or fwatchdog-gateway.</summary>
    public string? ServiceName { get; init; }

    /// <summary><c>OTEL_RESOURCE_ATTRIBUTES</c>, key=value pairs.</summary>
    public IReadOnlyList<KeyValuePair<string, object>> ResourceAttributes { get; init; } = [];

    /// <summary><c>OTEL_TRACES_SAMPLER</c>; default parentbased_always_on.</summary>
    public string Sampler { get; init; } = "parentbased_always_on";

    /// <summary><c>OTEL_TRACES_SAMPLER_ARG</c>, the ratio of the traceidratio samplers; default 1.</summary>
    public double SamplerRatio { get; init; } = 1.0;

    /// <summary><c>OTEL_BSP_SCHEDULE_DELAY</c> in milliseconds: how long spans wait to go in one batch; default 5000.</summary>
    public int ScheduleDelayMs { get; init; } = 5000;

    /// <summary>Reads the variables; null when export is off. A bad value is an error, never a silent default.</summary>
    public static TraceExport? Read(IReadOnlyDictionary<string, string?> environment, List<string> errors)
    {
        string? Get(string name) => environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

        var exporter = Get("OTEL_TRACES_EXPORTER");
        var traces = Get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        var general = Get("OTEL_EXPORTER_OTLP_ENDPOINT");
        if (Get("OTEL_SDK_DISABLED") == "true" || exporter == "none" || (exporter is null && traces is null && general is null))
        {
            return null;
        }

        if (exporter is not (null or "otlp"))
        {
            errors.Add($"OTEL_TRACES_EXPORTER={exporter}: fwatchdog exports spans with otlp only; set OTEL_TRACES_EXPORTER=otlp or none");
        }

        var protocol = Get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") ?? Get("OTEL_EXPORTER_OTLP_PROTOCOL") ?? "http/protobuf";
        if (protocol is not ("http/protobuf" or "grpc"))
        {
            errors.Add($"OTEL_EXPORTER_OTLP_PROTOCOL={protocol}: not a protocol fwatchdog speaks; use http/protobuf (port 4318) or grpc (port 4317)");
        }

        // The general endpoint is the collector's base address; over HTTP the traces path is added (the per-signal one is used as it is).
        var grpc = protocol == "grpc";
        var defaultBase = grpc ? "http://localhost:4317" : "http://localhost:4318";
        var endpointText = traces ?? (grpc ? general ?? defaultBase : (general ?? defaultBase).TrimEnd('/') + "/v1/traces");
        if (!Uri.TryCreate(endpointText, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            errors.Add($"{(traces is null ? "OTEL_EXPORTER_OTLP_ENDPOINT" : "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")}={traces ?? general}: not an http:// or https:// address, e.g. http://otel-collector:4318");
        }

        var delay = 5000;
        if (Get("OTEL_BSP_SCHEDULE_DELAY") is { } delayText && (!int.TryParse(delayText, NumberStyles.None, CultureInfo.InvariantCulture, out delay) || delay == 0))
        {
            errors.Add($"OTEL_BSP_SCHEDULE_DELAY={delayText}: not a number of milliseconds above 0, e.g. 5000");
        }

        var sampler = Get("OTEL_TRACES_SAMPLER") ?? "parentbased_always_on";
        if (!Samplers.Contains(sampler))
        {
            errors.Add($"OTEL_TRACES_SAMPLER={sampler}: not a sampler fwatchdog knows; use one of {string.Join(", ", Samplers)}");
        }

        var ratio = 1.0;
        if (Get("OTEL_TRACES_SAMPLER_ARG") is { } argument && sampler.EndsWith("traceidratio", StringComparison.Ordinal)
            && (!double.TryParse(argument, NumberStyles.Float, CultureInfo.InvariantCulture, out ratio) || ratio is < 0 or > 1))
        {
            errors.Add($"OTEL_TRACES_SAMPLER_ARG={argument}: not a ratio from 0 to 1, e.g. 0.25");
        }

        return new TraceExport
        {
            Endpoint = endpoint ?? new Uri(defaultBase),
            Grpc = grpc,
            ServiceName = Get("OTEL_SERVICE_NAME"),
            ResourceAttributes = ReadAttributes(Get("OTEL_RESOURCE_ATTRIBUTES"), errors),
            Sampler = sampler,
            SamplerRatio = ratio,
            ScheduleDelayMs = delay,
        };
    }

    private static readonly string[] Samplers =
        ["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"];

    private static List<KeyValuePair<string, object>> ReadAttributes(string? text, List<string> errors)
    {
        var attributes = new List<KeyValuePair<string, object>>();
        foreach (var pair in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                errors.Add($"OTEL_RESOURCE_ATTRIBUTES: \"{pair}\" is not key=value; write e.g. OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod,team=payments");
                continue;
            }

            attributes.Add(new(pair[..equals].Trim(), Uri.UnescapeDataString(pair[(equals + 1)..].Trim())));
        }

        return attributes;
    }
}
