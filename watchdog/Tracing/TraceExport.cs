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

    /// <summary>
    /// Reads the variables; null when export is off. The same variables often configure the
    /// function's own SDK, so a value the specification allows but fwatchdog does not use
    /// (<c>OTEL_TRACES_EXPORTER=console</c>, <c>http/json</c>, a vendor's sampler) is no error:
    /// <see cref="Warnings"/> names it and the default applies. A value that is not well-formed
    /// (an endpoint that is no address, a ratio above 1) is an error.
    /// </summary>
    public static TraceExport? Read(IReadOnlyDictionary<string, string?> environment, List<string> errors)
    {
        string? Get(string name) => Value(environment, name);

        var traces = Get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        var general = Get("OTEL_EXPORTER_OTLP_ENDPOINT");
        if (!On(environment))
        {
            return null;
        }

        var grpc = Protocol(environment) == "grpc";
        // The general endpoint is the collector's base address; over HTTP the traces path is added (the per-signal one is used as it is).
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

        var sampler = Get("OTEL_TRACES_SAMPLER") is { } named && Samplers.Contains(named) ? named : "parentbased_always_on";

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

    /// <summary>The values fwatchdog reads but does not use, each a line for stderr at start; none when export is off.</summary>
    public static IEnumerable<string> Warnings(IReadOnlyDictionary<string, string?> environment)
    {
        if (Value(environment, "OTEL_TRACES_EXPORTER") is { } exporter && Exporters(exporter).Any(e => e is not ("otlp" or "none")))
        {
            yield return $"OTEL_TRACES_EXPORTER={exporter}: fwatchdog exports spans with otlp only; it leaves the others to the function's own SDK";
        }

        if (!On(environment))
        {
            yield break;
        }

        if ((Value(environment, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") ?? Value(environment, "OTEL_EXPORTER_OTLP_PROTOCOL")) is { } protocol && Protocol(environment) != protocol)
        {
            yield return $"OTEL_EXPORTER_OTLP_PROTOCOL={protocol}: fwatchdog sends http/protobuf (port 4318) or grpc (port 4317); it sends http/protobuf";
        }

        if (Value(environment, "OTEL_TRACES_SAMPLER") is { } sampler && !Samplers.Contains(sampler))
        {
            yield return $"OTEL_TRACES_SAMPLER={sampler}: not a sampler fwatchdog knows ({string.Join(", ", Samplers)}); it samples parentbased_always_on";
        }
    }

    private static string? Value(IReadOnlyDictionary<string, string?> environment, string name) =>
        environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    private static string[] Exporters(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Export is on when asked for: otlp among OTEL_TRACES_EXPORTER's list, or, without that variable, an endpoint.</summary>
    private static bool On(IReadOnlyDictionary<string, string?> environment) =>
        Value(environment, "OTEL_SDK_DISABLED") != "true"
        && (Value(environment, "OTEL_TRACES_EXPORTER") is { } exporter
            ? Exporters(exporter).Contains("otlp")
            : Value(environment, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") is not null || Value(environment, "OTEL_EXPORTER_OTLP_ENDPOINT") is not null);

    /// <summary>grpc when asked for; http/protobuf otherwise (the default, and what http/json gets).</summary>
    private static string Protocol(IReadOnlyDictionary<string, string?> environment) =>
        (Value(environment, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") ?? Value(environment, "OTEL_EXPORTER_OTLP_PROTOCOL")) == "grpc" ? "grpc" : "http/protobuf";

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
