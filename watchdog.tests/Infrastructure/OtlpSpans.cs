namespace Fwatchdog.Tests.Infrastructure;

/// <summary>One span as an OTLP exporter sent it: ids in lower-case hex, the parent empty for a root.</summary>
internal sealed record OtlpSpan(string Service, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// Reads an OTLP/HTTP ExportTraceServiceRequest (protobuf) by its field numbers
/// (opentelemetry-proto trace/v1/trace.proto, common/v1/common.proto): no collector package is
/// needed to check what fwatchdog exports. Unknown fields are skipped by their wire type.
/// </summary>
internal static class OtlpSpans
{
    /// <summary>A stand-in OTLP/HTTP collector on 127.0.0.1:0: answers 200 to every export (read them with <see cref="Received"/>).</summary>
    public static Task<TestUpstream> StartCollectorAsync() => TestUpstream.StartAsync((context, _) =>
    {
        context.Response.ContentType = "application/x-protobuf";
        return Task.CompletedTask;
    });

    /// <summary>The OTEL_* settings that export to <paramref name="collector"/>, batches sent every 100 ms.</summary>
    public static Dictionary<string, string> ExportTo(TestUpstream collector) => new()
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Url.ToString(),
        ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
    };

    /// <summary>The spans of one trace <paramref name="collector"/> got so far (other specs in this process may export other traces to it).</summary>
    public static List<OtlpSpan> Received(TestUpstream collector, string traceId) =>
        collector.All.Where(r => r.RawTarget == "/v1/traces").SelectMany(r => Read(r.Body)).Where(s => s.TraceId == traceId).ToList();

    public static List<OtlpSpan> Read(byte[] request)
    {
        var spans = new List<OtlpSpan>();
        foreach (var (field, resourceSpans) in Fields(request))
        {
            if (field != 1)
            {
                continue; // ExportTraceServiceRequest.resource_spans = 1
            }

            var service = "";
            var scopeSpans = new List<byte[]>();
            foreach (var (f, value) in Fields(resourceSpans))
            {
                if (f == 1)
                {
                    // Resource.attributes = 1
                    service = Fields(value).Where(a => a.Field == 1).Select(a => Attribute(a.Value)).FirstOrDefault(a => a.Key == "service.name").Value ?? service;
                }
                else if (f == 2)
                {
                    scopeSpans.Add(value); // ResourceSpans.scope_spans = 2
                }
            }

            foreach (var scope in scopeSpans)
            {
                foreach (var (f, span) in Fields(scope))
                {
                    if (f == 2)
                    {
                        spans.Add(Span(service, span)); // ScopeSpans.spans = 2
                    }
                }
            }
        }

        return spans;
    }

    /// <summary>Span: trace_id 1, span_id 2, parent_span_id 4, name 5, kind 6, attributes 9.</summary>
    private static OtlpSpan Span(string service, byte[] span)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        var kind = 0;
        var attributes = new Dictionary<string, string>();
        foreach (var (field, value) in Fields(span))
        {
            switch (field)
            {
                case 1: traceId = Convert.ToHexStringLower(value); break;
                case 2: spanId = Convert.ToHexStringLower(value); break;
                case 4: parent = Convert.ToHexStringLower(value); break;
                case 5: name = Encoding.UTF8.GetString(value); break;
                case 6: kind = (int)Varint(value, 0).Value; break;
                case 9:
                    var (key, text) = Attribute(value);
                    attributes[key] = text;
                    break;
            }
        }

        return new OtlpSpan(service, traceId, spanId, parent, name, kind, attributes);
    }

    /// <summary>KeyValue: key 1, value 2 (AnyValue: string 1, bool 2, int 3, double 4), the value as text.</summary>
    private static (string Key, string Value) Attribute(byte[] keyValue)
    {
        string key = "", text = "";
        foreach (var (field, value) in Fields(keyValue))
        {
            if (field == 1)
            {
                key = Encoding.UTF8.GetString(value);
            }
            else if (field == 2)
            {
                foreach (var (f, v) in Fields(value))
                {
                    text = f switch
                    {
                        1 => Encoding.UTF8.GetString(v),
                        2 => Varint(v, 0).Value != 0 ? "true" : "false",
                        3 => ((long)Varint(v, 0).Value).ToString(CultureInfo.InvariantCulture),
                        4 => BitConverter.ToDouble(v).ToString(CultureInfo.InvariantCulture),
                        _ => text,
                    };
                }
            }
        }

        return (key, text);
    }

    /// <summary>
    /// The fields of one message in order: length-delimited ones with their bytes, varints as their
    /// bytes (read again with <see cref="Varint"/>), fixed ones as their 4 or 8 bytes.
    /// </summary>
    private static List<(int Field, byte[] Value)> Fields(byte[] message)
    {
        var fields = new List<(int, byte[])>();
        var at = 0;
        while (at < message.Length)
        {
            var (tag, next) = Varint(message, at);
            at = next;
            var field = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    var start = at;
                    at = Varint(message, at).Next;
                    fields.Add((field, message[start..at]));
                    break;
                case 1:
                    fields.Add((field, message[at..(at + 8)]));
                    at += 8;
                    break;
                case 2:
                    var (length, body) = Varint(message, at);
                    fields.Add((field, message[body..(body + (int)length)]));
                    at = body + (int)length;
                    break;
                case 5:
                    fields.Add((field, message[at..(at + 4)]));
                    at += 4;
                    break;
                default:
                    throw new InvalidDataException($"wire type {tag & 7} at byte {at}: not an OTLP message");
            }
        }

        return fields;
    }

    private static (ulong Value, int Next) Varint(byte[] bytes, int at)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = bytes[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return (value, at);
            }
        }

        throw new InvalidDataException("a varint longer than 10 bytes");
    }
}
