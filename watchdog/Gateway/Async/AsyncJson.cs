using System.Text.Json.Serialization;

namespace Fwatchdog.Gateway.Async;

/// <summary>The JSON bodies of the async routes (source-generated, so NativeAOT keeps working).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = false)]
[JsonSerializable(typeof(AcceptedBody))]
[JsonSerializable(typeof(StatusBody))]
[JsonSerializable(typeof(FunctionListItem[]))]
internal sealed partial class AsyncJson : JsonSerializerContext;

/// <summary>The 202 body: the call id and where its status lives.</summary>
internal sealed record AcceptedBody(string CallId, string Status, bool? Replayed);

/// <summary>One call as the status API shows it.</summary>
internal sealed record StatusBody(
    string CallId,
    string Function,
    string State,
    int Attempts,
    int MaxAttempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    DateTimeOffset? NextAttemptAt,
    int? StatusCode,
    string? Error,
    CallbackBody? Callback,
    string? Result,
    string? ResultContentType,
    long? ResultLength,
    string? ParentCallId);

/// <summary>The callback part of a status (not its URL: that may carry the receiver's secrets).</summary>
internal sealed record CallbackBody(string State, int Attempts, int? StatusCode, string? Error);

/// <summary>One entry of GET /system/functions.</summary>
internal sealed record FunctionListItem(string Name, string Kind, string? Upstream, bool Ready, long InvocationCount, int? Replicas, int? AvailableReplicas);
