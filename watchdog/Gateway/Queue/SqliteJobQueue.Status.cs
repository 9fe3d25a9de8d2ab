using Microsoft.Data.Sqlite;

namespace Fwatchdog.Gateway.Queue;

/// <summary>Callbacks, the status API, cancel and retention.</summary>
internal sealed partial class SqliteJobQueue
{
    public async Task<IReadOnlyList<CallbackWork>> ClaimCallbacksAsync(int max, CancellationToken cancellationToken)
    {
        var candidates = new List<string>();
        await using (var connection = await OpenReadAsync(cancellationToken))
        await using (var select = connection.CreateCommand())
        {
            select.CommandText = """
                SELECT call_id FROM jobs
                WHERE callback_state = 'pending' AND callback_due <= $now AND (lease_until IS NULL OR lease_until < $now)
                ORDER BY callback_due LIMIT $limit
                """;
            select.Parameters.AddWithValue("$now", Now);
            select.Parameters.AddWithValue("$limit", max);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                candidates.Add(reader.GetString(0));
            }
        }

        if (candidates.Count == 0)
        {
            return [];
        }

        var now = Now;
        return await _writer.WriteAsync<IReadOnlyList<CallbackWork>>(connection =>
        {
            var work = new List<CallbackWork>();
            using var claim = connection.CreateCommand();
            claim.CommandText = """
                UPDATE jobs SET lease_owner = $owner, lease_until = $until
                WHERE call_id = $id AND callback_state = 'pending' AND callback_due <= $now AND (lease_until IS NULL OR lease_until < $now)
                RETURNING call_id, function, callback_url, state, status_code, result_type, result, result_file, result_length,
                          duration_ms, attempts, max_attempts, callback_attempts, headers
                """;
            var id = claim.Parameters.Add("$id", SqliteType.Text);
            claim.Parameters.AddWithValue("$owner", _owner);
            claim.Parameters.AddWithValue("$until", now + (long)_callbackLease.TotalMilliseconds);
            claim.Parameters.AddWithValue("$now", now);
            foreach (var callId in candidates)
            {
                id.Value = callId;
                using var reader = claim.ExecuteReader();
                if (reader.Read())
                {
                    work.Add(new CallbackWork(
                        reader.GetString(0),
                        reader.GetString(1),
                        new Uri(reader.GetString(2)),
                        Enum.Parse<JobState>(reader.GetString(3), ignoreCase: true),
                        reader.IsDBNull(4) ? 0 : reader.GetInt32(4),
                        reader.IsDBNull(5) ? null : reader.GetString(5),
                        new StoredBody(reader.IsDBNull(6) ? null : (byte[])reader.GetValue(6), reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? 0 : reader.GetInt64(8)),
                        TimeSpan.FromMilliseconds(reader.IsDBNull(9) ? 0 : reader.GetInt64(9)),
                        reader.GetInt32(10),
                        reader.GetInt32(11),
                        reader.GetInt32(12) + 1)
                    {
                        Trace = Tracing.TraceHeaders.Read(DecodeHeaders(reader.GetString(13))),
                    });
                }
            }

            return work;
        });
    }

    public Task CallbackAttemptedAsync(string callId, CallbackState state, int? statusCode, string? error, DateTimeOffset? retryAt, CancellationToken cancellationToken) =>
        _writer.WriteAsync(connection => Execute(connection, """
            UPDATE jobs SET callback_state = $state, callback_attempts = callback_attempts + 1, callback_status = $status,
                            callback_error = $error, callback_due = $due, lease_owner = NULL, lease_until = NULL
            WHERE call_id = $id AND callback_state = 'pending'
            """,
            ("$id", callId), ("$state", QueueNames.Name(state)), ("$status", statusCode), ("$error", error), ("$due", retryAt?.ToUnixTimeMilliseconds())));

    /// <summary>The columns <see cref="ReadStatus"/> reads, in its order.</summary>
    private const string StatusColumns = """
        call_id, function, state, attempts, max_attempts, created_at, started_at, finished_at, due_at, status_code, error,
        callback_url, callback_state, callback_attempts, callback_status, callback_error,
        (result IS NOT NULL OR result_file IS NOT NULL), result_type, result_length, headers, token, history
        """;

    public async Task<JobStatus?> GetAsync(string callId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var select = connection.CreateCommand();
        select.CommandText = $"SELECT {StatusColumns} FROM jobs WHERE call_id = $id";
        select.Parameters.AddWithValue("$id", callId);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadStatus(reader) : null;
    }

    private static JobStatus ReadStatus(SqliteDataReader reader)
    {
        var state = Enum.Parse<JobState>(reader.GetString(2), ignoreCase: true);
        var headers = DecodeHeaders(reader.GetString(19));
        return new JobStatus(
            reader.GetString(0),
            reader.GetString(1),
            state,
            reader.GetInt32(3),
            reader.GetInt32(4),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
            Time(reader, 6),
            Time(reader, 7),
            state == JobState.Queued ? Time(reader, 8) : null,
            reader.IsDBNull(9) ? null : reader.GetInt32(9),
            reader.IsDBNull(10) ? null : reader.GetString(10),
            reader.IsDBNull(11) ? null : new Uri(reader.GetString(11)),
            Enum.Parse<CallbackState>(reader.GetString(12), ignoreCase: true),
            reader.GetInt32(13),
            reader.IsDBNull(14) ? null : reader.GetInt32(14),
            reader.IsDBNull(15) ? null : reader.GetString(15),
            reader.GetBoolean(16),
            reader.IsDBNull(17) ? null : reader.GetString(17),
            reader.IsDBNull(18) ? 0 : reader.GetInt64(18))
        {
            ParentCallId = CallIds.ParentOf(headers),
            TraceId = Tracing.TraceHeaders.Read(headers)?.TraceId,
            Token = reader.IsDBNull(20) ? null : reader.GetString(20),
            History = ReadHistory(reader, 21),
        };
    }

    public async Task<StoredBody?> GetResultAsync(string callId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var select = connection.CreateCommand();
        select.CommandText = "SELECT result, result_file, result_length FROM jobs WHERE call_id = $id AND (result IS NOT NULL OR result_file IS NOT NULL)";
        select.Parameters.AddWithValue("$id", callId);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new StoredBody(reader.IsDBNull(0) ? null : (byte[])reader.GetValue(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt64(2))
            : null;
    }

    public Task<CancelResult> CancelAsync(string callId, bool queuedOnly, CancellationToken cancellationToken)
    {
        var now = Now;
        return _writer.WriteAsync(connection =>
        {
            using var select = connection.CreateCommand();
            select.CommandText = "SELECT state FROM jobs WHERE call_id = $id";
            select.Parameters.AddWithValue("$id", callId);
            if (select.ExecuteScalar() is not string state)
            {
                return CancelResult.NotFound;
            }

            if (state is not ("queued" or "running"))
            {
                return CancelResult.AlreadyFinished;
            }

            if (queuedOnly && state == "running")
            {
                return CancelResult.Running;
            }

            Execute(connection, $"""
                UPDATE jobs SET state = 'cancelled', finished_at = $now, error = 'cancelled by DELETE', lease_owner = NULL, lease_until = NULL,
                                history = {FinishedHistory}
                WHERE call_id = $id
                """, [("$id", callId), ("$now", now), .. AttemptEnd(null, CallAttempt.Cancelled)]);
            return state == "running" ? CancelResult.CancelledRunning : CancelResult.CancelledQueued;
        });
    }

    public async Task<RequeueResult> RequeueAsync(string callId, CancellationToken cancellationToken)
    {
        var now = Now;
        var (result, resultFile) = await _writer.WriteAsync<(RequeueResult, string?)>(connection =>
        {
            using var select = connection.CreateCommand();
            select.CommandText = "SELECT state, callback_state, result_file FROM jobs WHERE call_id = $id";
            select.Parameters.AddWithValue("$id", callId);
            using var reader = select.ExecuteReader();
            if (!reader.Read())
            {
                return (RequeueResult.NotFound, null);
            }

            if (reader.GetString(0) is not ("failed" or "dead" or "cancelled") || reader.GetString(1) == "pending")
            {
                return (RequeueResult.NotFinished, null);
            }

            var resultFile = reader.IsDBNull(2) ? null : reader.GetString(2);
            reader.Close();
            Execute(connection, """
                UPDATE jobs SET state = 'queued', attempts = 0, due_at = $now, started_at = NULL, finished_at = NULL, status_code = NULL,
                                error = NULL, duration_ms = NULL, result = NULL, result_file = NULL, result_length = NULL, result_type = NULL,
                                callback_state = 'none', callback_attempts = 0, callback_due = NULL, callback_status = NULL, callback_error = NULL,
                                lease_owner = NULL, lease_until = NULL
                WHERE call_id = $id
                """, ("$id", callId), ("$now", now));
            return (RequeueResult.Requeued, resultFile);
        });
        new StoredBody(null, resultFile, 0).DeleteFile();
        return result;
    }

    public Task ProbeWriteAsync(CancellationToken cancellationToken)
    {
        var now = Now;
        return _writer.WriteAsync(connection => Execute(connection, "INSERT INTO probe (id, at) VALUES (1, $now) ON CONFLICT (id) DO UPDATE SET at = excluded.at", ("$now", now)))
            .WaitAsync(cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, long>> CountAsync(CancellationToken cancellationToken)
    {
        var counts = Enum.GetValues<JobState>().ToDictionary(QueueNames.Name, _ => 0L, StringComparer.Ordinal);
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var select = connection.CreateCommand();
        select.CommandText = "SELECT state, COUNT(*) FROM jobs GROUP BY state";
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }

    public async Task<int> SweepAsync(DateTimeOffset finishedBefore, CancellationToken cancellationToken)
    {
        var files = await _writer.WriteAsync(connection =>
        {
            using var delete = connection.CreateCommand();
            delete.CommandText = """
                DELETE FROM jobs WHERE finished_at < $before AND callback_state <> 'pending' AND state NOT IN ('queued', 'running')
                RETURNING body_file, result_file
                """;
            delete.Parameters.AddWithValue("$before", finishedBefore.ToUnixTimeMilliseconds());
            var paths = new List<string?>();
            using var reader = delete.ExecuteReader();
            while (reader.Read())
            {
                paths.Add(reader.IsDBNull(0) ? "" : reader.GetString(0));
                paths.Add(reader.IsDBNull(1) ? null : reader.GetString(1));
            }

            return paths;
        });
        foreach (var path in files)
        {
            new StoredBody(null, string.IsNullOrEmpty(path) ? null : path, 0).DeleteFile();
        }

        return files.Count / 2;
    }
}
