using System.Text.Json.Serialization;

namespace Fwatchdog.Gateway.OpenFaasApi;

/// <summary>
/// The JSON bodies of /system/*, in the field names and types of the OpenFaaS provider types
/// (faas-provider's FunctionStatus, ProviderInfo, VersionInfo, logs.Message; the gateway's
/// GatewayInfo), source-generated so NativeAOT keeps working.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = false)]
[JsonSerializable(typeof(FunctionStatusBody))]
[JsonSerializable(typeof(FunctionStatusBody[]))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(GatewayInfoBody))]
[JsonSerializable(typeof(LogMessageBody))]
internal sealed partial class SystemJson : JsonSerializerContext;

/// <summary>
/// One function as FunctionStatus has it (no <c>envVars</c>: environment values often hold
/// secrets), plus the gateway's own <c>kind</c> (local, upstream, template), <c>upstream</c> (the
/// address calls go to) and <c>ready</c>.
/// </summary>
internal sealed record FunctionStatusBody(
    string Name,
    string Image,
    string Namespace,
    string? EnvProcess,
    IReadOnlyDictionary<string, string>? Labels,
    IReadOnlyDictionary<string, string>? Annotations,
    long InvocationCount,
    int Replicas,
    int AvailableReplicas,
    DateTimeOffset CreatedAt,
    string Kind,
    string? Upstream,
    bool Ready);

/// <summary>GET /system/info: the gateway's GatewayInfo (faas-cli version reads both versions).</summary>
internal sealed record GatewayInfoBody(ProviderInfoBody Provider, VersionInfoBody Version, string Arch);

internal sealed record ProviderInfoBody(string Provider, VersionInfoBody Version, string Orchestration);

internal sealed record VersionInfoBody(string Sha, string Release);

/// <summary>One line of GET /system/logs, as faas-provider's logs.Message.</summary>
internal sealed record LogMessageBody(string Name, string Namespace, string Instance, DateTimeOffset Timestamp, string Text);
