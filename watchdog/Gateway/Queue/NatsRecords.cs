using System.Text.Json.Serialization;

namespace Fwatchdog.Gateway.Queue;

/// <summary>A queued call as published on the JetStream work-queue stream.</summary>
internal sealed record NatsJobMessage(
    string CallId,
    string Function,
    string Method,
    string Path,
    string Query,
    string[][] Headers,
    string? CallbackUrl,
    int MaxAttempts,
    byte[]? Body,
    string? BodyObject,
    long BodyLength);

/// <summary>A call's status in the key-value bucket (key <c>call.{id}</c>); any replica reads and updates it.</summary>
internal sealed record NatsCallRecord
{
    public required string CallId { get; init; }

    public required string Function { get; init; }

    public string State { get; init; } = "queued";

    public int Attempts { get; init; }

    public int MaxAttempts { get; init; }

    public long CreatedAt { get; init; }

    public long? StartedAt { get; init; }

    public long? FinishedAt { get; init; }

    public long? DueAt { get; init; }

    public int? StatusCode { get; init; }

    public string? ParentCallId { get; init; }

    /// <summary>The traceparent stored at accept (the accept span as parent): attempts and callbacks are spans in its trace.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The secret that opens the call in the status API.</summary>
    public string? Token { get; init; }

    public string? Error { get; init; }

    public string? Owner { get; init; }

    public string? CallbackUrl { get; init; }

    public string CallbackState { get; init; } = "none";

    public int CallbackAttempts { get; init; }

    public int? CallbackStatus { get; init; }

    public string? CallbackError { get; init; }

    public long? DurationMs { get; init; }

    public byte[]? Result { get; init; }

    public string? ResultObject { get; init; }

    public long ResultLength { get; init; }

    public string? ResultType { get; init; }

    /// <summary>Its attempts, oldest first (<see cref="CallAttempt"/>); none on a record written before histories.</summary>
    public CallAttempt[]? History { get; init; }

    public bool HasResult => Result is not null || ResultObject is not null;
}

/// <summary>A dead-lettered call: the original message and why it was given up.</summary>
internal sealed record NatsDeadLetter(NatsJobMessage Job, int Attempts, int? StatusCode, string? Error, long At);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(NatsJobMessage))]
[JsonSerializable(typeof(NatsCallRecord))]
[JsonSerializable(typeof(NatsDeadLetter))]
internal sealed partial class NatsJson : JsonSerializerContext;
