using System.Text.Json.Serialization;

namespace Fwatchdog.Gateway.Queue;

/// <summary>The attempts column of the SQLite queue, as JSON (the NATS record holds the same array).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CallAttempt[]))]
internal sealed partial class CallAttemptJson : JsonSerializerContext;
