using Fwatchdog.Tracing;

namespace Fwatchdog.Tests.Tracing;

/// <summary>Span export from the standard OTEL_* variables: off unless asked for, the traces URL as the specification builds it, every bad value an error.</summary>
public sealed class TraceExportTests : FastTier
{
    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", "http://collector:4318/v1/traces")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/", "http://collector:4318/v1/traces")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector/base", "https://collector/base/v1/traces")]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:4318/custom", "http://collector:4318/custom")]
    [InlineData("OTEL_TRACES_EXPORTER", "otlp", "http://localhost:4318/v1/traces")]
    public void Export_is_on_when_an_endpoint_or_the_otlp_exporter_is_named(string variable, string value, string endpoint)
    {
        var errors = new List<string>();

        var export = TraceExport.Read(new Dictionary<string, string?> { [variable] = value }, errors);

        errors.Should().BeEmpty();
        export.Should().NotBeNull();
        export!.Endpoint.Should().Be(new Uri(endpoint));
        export.Grpc.Should().BeFalse("http/protobuf is the default, as the specification says");
        export.Sampler.Should().Be("parentbased_always_on");
    }

    [Theory]
    [InlineData]
    [InlineData("OTEL_SERVICE_NAME", "fn")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", "OTEL_SDK_DISABLED", "true")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", "OTEL_TRACES_EXPORTER", "none")]
    public void Export_is_off_unless_asked_for(params string[] pairs)
    {
        var environment = new Dictionary<string, string?>();
        for (var i = 0; i < pairs.Length; i += 2)
        {
            environment[pairs[i]] = pairs[i + 1];
        }

        var errors = new List<string>();
        TraceExport.Read(environment, errors).Should().BeNull();
        errors.Should().BeEmpty();
    }

    [Fact]
    public void Grpc_takes_the_endpoint_as_it_is_and_the_rest_is_read()
    {
        var errors = new List<string>();

        var export = TraceExport.Read(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://collector:4317",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc",
            ["OTEL_SERVICE_NAME"] = "orders",
            ["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment=prod,team=a%20b",
            ["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio",
            ["OTEL_TRACES_SAMPLER_ARG"] = "0.25",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        }, errors);

        errors.Should().BeEmpty();
        export.Should().BeEquivalentTo(new
        {
            Endpoint = new Uri("http://collector:4317"),
            Grpc = true,
            ServiceName = "orders",
            Sampler = "parentbased_traceidratio",
            SamplerRatio = 0.25,
            ScheduleDelayMs = 200,
        });
        export!.ResourceAttributes.Should().Equal(new KeyValuePair<string, object>("deployment.environment", "prod"), new KeyValuePair<string, object>("team", "a b"));
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318", "OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318: not an http:// or https:// address")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "OTEL_EXPORTER_OTLP_PROTOCOL=http/json: not a protocol fwatchdog speaks")]
    [InlineData("OTEL_TRACES_EXPORTER", "zipkin", "OTEL_TRACES_EXPORTER=zipkin: fwatchdog exports spans with otlp only")]
    [InlineData("OTEL_TRACES_SAMPLER", "sometimes", "OTEL_TRACES_SAMPLER=sometimes: not a sampler fwatchdog knows")]
    [InlineData("OTEL_BSP_SCHEDULE_DELAY", "5s", "OTEL_BSP_SCHEDULE_DELAY=5s: not a number of milliseconds above 0")]
    [InlineData("OTEL_RESOURCE_ATTRIBUTES", "team", "OTEL_RESOURCE_ATTRIBUTES: \"team\" is not key=value")]
    public void A_bad_value_is_an_error_naming_the_variable_never_a_silent_default(string variable, string value, string error)
    {
        var environment = new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://collector:4318", [variable] = value };
        var errors = new List<string>();

        TraceExport.Read(environment, errors);

        errors.Should().ContainSingle().Which.Should().StartWith(error);
    }

    [Fact]
    public void A_sampler_ratio_outside_0_to_1_is_an_error()
    {
        var errors = new List<string>();

        TraceExport.Read(new Dictionary<string, string?>
        {
            ["OTEL_TRACES_EXPORTER"] = "otlp",
            ["OTEL_TRACES_SAMPLER"] = "traceidratio",
            ["OTEL_TRACES_SAMPLER_ARG"] = "2",
        }, errors);

        errors.Should().ContainSingle().Which.Should().StartWith("OTEL_TRACES_SAMPLER_ARG=2: not a ratio from 0 to 1");
    }
}
