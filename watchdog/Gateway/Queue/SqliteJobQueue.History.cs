using System.Text.Json;

namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// Every attempt of a call, in the <c>history</c> column: a JSON array of <see cref="CallAttempt"/>,
/// changed by SQLite's JSON functions in the same statement that changes the call, so a claim or
/// an outcome costs no extra read or write. The rules are <see cref="CallAttempt"/>'s.
/// </summary>
internal sealed partial class SqliteJobQueue
{
    /// <summary>The last attempt is still open: started, not finished.</summary>
    private const string LastOpen = "(json_type(history, '$[#-1].startedAt') IS NOT NULL AND json_type(history, '$[#-1].finishedAt') IS NULL)";

    /// <summary>The history at a claim at <c>$now</c>, before <c>attempts</c> counts it (see <see cref="CallAttempt.Started"/>).</summary>
    private static readonly string StartedHistory = StartedHistoryExpression();

    /// <summary>The history with its open attempt ended at <c>$now</c> with <c>$attempt_status</c> and <c>$attempt_error</c>.</summary>
    private const string FinishedHistory = $"""
        CASE WHEN {LastOpen}
             THEN json_set(history, '$[#-1].finishedAt', $now, '$[#-1].statusCode', $attempt_status, '$[#-1].error', $attempt_error)
             ELSE history END
        """;

    /// <summary>The history without its open attempt (see <see cref="CallAttempt.Dropped"/>).</summary>
    private const string DroppedHistory = $"CASE WHEN {LastOpen} THEN json_remove(history, '$[#-1]') ELSE history END";

    private static string StartedHistoryExpression()
    {
        var closed = $"(CASE WHEN {LastOpen} THEN json_set(history, '$[#-1].finishedAt', $now, '$[#-1].error', '{CallAttempt.LeaseExpired}') ELSE COALESCE(history, '[]') END)";
        var trimmed = $"(CASE WHEN json_array_length({closed}) >= {CallAttempt.Kept} THEN json_remove({closed}, '$[0]') ELSE {closed} END)";
        var started = $"json_insert({trimmed}, '$[#]', json_object('attempt', COALESCE(json_extract(history, '$[#-1].attempt'), attempts) + 1, 'startedAt', $now))";
        return $"(CASE WHEN attempts < max_attempts THEN {started} ELSE {closed} END)";
    }

    /// <summary>The parameters of <see cref="FinishedHistory"/>: 0 is no HTTP status (the call never reached the function), and an empty error is none.</summary>
    private static (string, object?)[] AttemptEnd(int? statusCode, string? error) =>
        [("$attempt_status", statusCode is 0 ? null : statusCode), ("$attempt_error", string.IsNullOrEmpty(error) ? null : error)];

    private static CallAttempt[] ReadHistory(Microsoft.Data.Sqlite.SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? [] : JsonSerializer.Deserialize(reader.GetString(ordinal), CallAttemptJson.Default.CallAttemptArray) ?? [];
}
