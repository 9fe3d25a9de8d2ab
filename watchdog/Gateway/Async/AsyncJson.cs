using System.Text.Json.Serialization;

namespace Fwatchdog.Gateway.Async;

/// <summary>The JSON bodies of the async routes (source-generated, so NativeAOT keeps working).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = false)]
[JsonSerializable(typeof(AcceptedBody))]
[JsonSerializable(typeof(StatusBody))]
[JsonSerializable(typeof(CallListBody))]
[JsonSerializable(typeof(BulkBody))]
[JsonSerializable(typeof(Ui.ConsoleOverview))]
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
    string? ParentCallId,
    AttemptBody[] History,
    string? TraceId);

/// <summary>
/// One page of GET /async-calls: the calls (each as its status shows it, named by its bare id),
/// the link to the next page and its cursor (none on the last), and whether older calls exist that
/// the queue did not read (NATS reads a bounded window).
/// </summary>
internal sealed record CallListBody(StatusBody[] Calls, string? Next, string? NextCursor, bool? OlderUnlisted);

/// <summary>
/// What a bulk replay or cancel did: how many calls matched, how many it replayed or cancelled,
/// how many matched but were left as they were (finished, running, or changed meanwhile), how many
/// a queue bound refused and why, and the link that goes on from the last one looked at.
/// </summary>
internal sealed record BulkBody(int Matched, int? Replayed, int? Cancelled, int Skipped, int? Refused, string? Reason, bool More, string? Next);

/// <summary>One attempt in a status's history: an attempt still running has no finishedAt.</summary>
internal sealed record AttemptBody(int Attempt, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, int? StatusCode, string? Error);

/// <summary>The callback part of a status (not its URL: that may carry the receiver's secrets).</summary>
internal sealed record CallbackBody(string State, int Attempts, int? StatusCode, string? Error);

