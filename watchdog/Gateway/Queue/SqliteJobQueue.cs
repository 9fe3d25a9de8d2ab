using System.Text;
using Fwatchdog.Hosting;
using Microsoft.Data.Sqlite;

namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// The embedded queue: one SQLite file in WAL mode under data_dir. All writes go through one
/// <see cref="SqliteWriter"/> (group commit, synchronous=FULL); reads use pooled connections.
/// Leases are rows: <c>lease_owner</c> and <c>lease_until</c>, so a job whose gateway died is
/// claimed again once its lease runs out.
/// </summary>
internal sealed partial class SqliteJobQueue : IJobQueue
{
    private const string Claimable = "((state = 'queued' AND due_at <= $now) OR (state = 'running' AND lease_until < $now))";
    private readonly SqliteWriter _writer;
    private readonly string _readConnection;
    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
    private readonly TimeProvider _time;
    private readonly TimeSpan _lease;
    private readonly TimeSpan _callbackLease;
    private readonly IReadOnlyList<string>? _scope;
    private readonly FairTurns _turns = new();

    public SqliteJobQueue(string dataDir, TimeSpan lease, TimeSpan callbackTimeout, TimeProvider time, IReadOnlyList<string>? scope = null)
    {
        _scope = scope is { Count: > 0 } ? scope : null;
        var path = Path.Combine(Path.GetFullPath(dataDir), "queue.db");
        var builder = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 };
        _writer = Open(dataDir, path, builder.ConnectionString);
        builder.Mode = SqliteOpenMode.ReadOnly;
        _readConnection = builder.ConnectionString;
        _time = time;
        _lease = lease;
        _callbackLease = callbackTimeout + lease;
    }

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Opens (or creates) the database and checks it before the gateway takes calls: a folder that
    /// cannot be written, a file that is not a database or is damaged (<c>PRAGMA quick_check</c>)
    /// stop start-up with one line instead of failing calls later.
    /// </summary>
    private static SqliteWriter Open(string dataDir, string path, string connectionString)
    {
        var at = $"data_dir=\"{dataDir}\"";
        try
        {
            Directory.CreateDirectory(dataDir);
            var probe = Path.Combine(dataDir, ".write-check");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"{at}: cannot be written ({FileProblem.Describe(e, dataDir, folder: true)}); give the gateway a folder it can write, e.g. data_dir=/var/lib/fwatchdog", e);
        }

        try
        {
            using (var connection = new SqliteConnection(connectionString))
            {
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = "PRAGMA quick_check(1)";
                if (command.ExecuteScalar() is not "ok" and var check)
                {
                    throw new StartupException($"{at}: {path} is damaged (SQLite quick_check: {check}); restore it from a backup, or move it away to start with an empty queue");
                }

                command.CommandText = "PRAGMA journal_mode=WAL;" + Schema + UsageIndex + ListingIndexes;
                command.ExecuteNonQuery();
                AddMissingColumns(connection);
            }

            return new SqliteWriter(connectionString);
        }
        catch (SqliteException e)
        {
            var what = e.SqliteErrorCode switch
            {
                11 or 26 => "is not a SQLite database, or is damaged; restore it from a backup, or move it away to start with an empty queue",
                8 => "is read-only; make it writable by the gateway",
                5 or 6 => "is locked by another process; stop the other gateway using this data_dir",
                13 => "cannot be written: the disk is full",
                _ => $"cannot be opened (SQLite error {e.SqliteErrorCode}: {e.Message})",
            };
            throw new StartupException($"{at}: {path} {what}", e);
        }
    }

    public Task<EnqueueResult> EnqueueAsync(JobRequest job, StoredBody body, CancellationToken cancellationToken)
    {
        var now = Now;
        var key = job.IdempotencyKey is { } k ? job.Function + "\n" + k : null;
        return _writer.WriteAsync(connection =>
        {
            using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO jobs (call_id, function, method, path, query, headers, body, body_file, body_length, callback_url,
                                  idempotency_key, state, max_attempts, due_at, created_at, token, request_hash)
                VALUES ($id, $function, $method, $path, $query, $headers, $body, $file, $length, $callback,
                        $key, 'queued', $max, $now, $now, $token, $hash)
                ON CONFLICT DO NOTHING
                """;
            insert.Parameters.AddWithValue("$id", job.CallId);
            insert.Parameters.AddWithValue("$function", job.Function);
            insert.Parameters.AddWithValue("$method", job.Method);
            insert.Parameters.AddWithValue("$path", job.Path);
            insert.Parameters.AddWithValue("$query", job.Query);
            insert.Parameters.AddWithValue("$headers", EncodeHeaders(job.Headers));
            insert.Parameters.AddWithValue("$body", (object?)body.Inline ?? DBNull.Value);
            insert.Parameters.AddWithValue("$file", (object?)body.FilePath ?? DBNull.Value);
            insert.Parameters.AddWithValue("$length", body.Length);
            insert.Parameters.AddWithValue("$callback", (object?)job.CallbackUrl?.AbsoluteUri ?? DBNull.Value);
            insert.Parameters.AddWithValue("$key", (object?)key ?? DBNull.Value);
            insert.Parameters.AddWithValue("$max", job.MaxAttempts);
            insert.Parameters.AddWithValue("$now", now);
            insert.Parameters.AddWithValue("$token", (object?)job.Token ?? DBNull.Value);
            insert.Parameters.AddWithValue("$hash", (object?)job.RequestHash ?? DBNull.Value);
            if (insert.ExecuteNonQuery() == 1)
            {
                return new EnqueueResult(job.CallId, EnqueueStatus.Stored, job.Token);
            }

            if (key is not null)
            {
                using var existing = connection.CreateCommand();
                existing.CommandText = "SELECT call_id, request_hash, token FROM jobs WHERE idempotency_key = $key";
                existing.Parameters.AddWithValue("$key", key);
                using var reader = existing.ExecuteReader();
                if (reader.Read())
                {
                    var hash = reader.IsDBNull(1) ? null : reader.GetString(1);
                    return hash is not null && hash != job.RequestHash
                        ? new EnqueueResult(job.CallId, EnqueueStatus.KeyReused)
                        : new EnqueueResult(reader.GetString(0), EnqueueStatus.Replayed, reader.IsDBNull(2) ? null : reader.GetString(2));
                }
            }

            return new EnqueueResult(job.CallId, EnqueueStatus.CallIdTaken);
        });
    }

    public async Task<IReadOnlyList<ClaimedJob>> ClaimAsync(int max, ISlotBook slots, CancellationToken cancellationToken)
    {
        var candidates = new List<(string CallId, string Function)>();
        IReadOnlyList<ClaimedJob> claimed = [];
        try
        {
            claimed = await ClaimCandidatesAsync(max, slots, candidates, cancellationToken);
        }
        finally
        {
            // Every slot taken for a call that was not claimed goes back, also when the claim failed
            // (SQLITE_BUSY, disk full): a leaked slot is a worker lost until restart.
            foreach (var (callId, function) in candidates)
            {
                if (!claimed.Any(j => j.Request.CallId == callId))
                {
                    slots.Give(function);
                }
            }
        }

        return claimed;
    }

    private async Task<IReadOnlyList<ClaimedJob>> ClaimCandidatesAsync(int max, ISlotBook slots, List<(string CallId, string Function)> candidates, CancellationToken cancellationToken)
    {
        await using (var connection = await OpenReadAsync(cancellationToken))
        await using (var select = connection.CreateCommand())
        {
            // queue_functions: only these functions' calls are claimed here, filtered in SQL so that
            // other functions' backlog cannot crowd them out of the candidate window.
            var scope = _scope is null ? "" : " AND function IN (" + string.Join(", ", _scope.Select((_, i) => "$f" + i)) + ")";
            // Each function's oldest due calls (its turn 1, 2, ...), put in round-robin order below (FairTurns).
            select.CommandText = $"""
                SELECT call_id, function FROM (
                    SELECT call_id, function, due_at, ROW_NUMBER() OVER (PARTITION BY function ORDER BY due_at) AS turn
                    FROM jobs WHERE {Claimable}{scope})
                WHERE turn <= $turns ORDER BY turn, due_at LIMIT $limit
                """;
            for (var i = 0; _scope is not null && i < _scope.Count; i++)
            {
                select.Parameters.AddWithValue("$f" + i, _scope[i]);
            }

            select.Parameters.AddWithValue("$now", Now);
            select.Parameters.AddWithValue("$turns", max);
            select.Parameters.AddWithValue("$limit", Math.Max(max * 64, 1024));
            var due = new List<(string CallId, string Function)>();
            await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    due.Add((reader.GetString(0), reader.GetString(1)));
                }
            }

            foreach (var (callId, function) in _turns.Order(due, d => d.Function))
            {
                if (candidates.Count < max && slots.TryTake(function))
                {
                    candidates.Add((callId, function));
                }
            }
        }

        if (candidates.Count == 0)
        {
            return [];
        }

        var now = Now;
        return await _writer.WriteAsync<IReadOnlyList<ClaimedJob>>(connection =>
        {
            var jobs = new List<ClaimedJob>();
            using var claim = connection.CreateCommand();
            claim.CommandText = $"""
                UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = $owner, lease_until = $until,
                                started_at = COALESCE(started_at, $now), history = {StartedHistory}
                WHERE call_id = $id AND {Claimable}
                RETURNING call_id, function, method, path, query, headers, body, body_file, body_length, callback_url,
                          idempotency_key, max_attempts, attempts, due_at
                """;
            var id = claim.Parameters.Add("$id", SqliteType.Text);
            claim.Parameters.AddWithValue("$owner", _owner);
            claim.Parameters.AddWithValue("$until", now + (long)_lease.TotalMilliseconds);
            claim.Parameters.AddWithValue("$now", now);
            foreach (var (callId, _) in candidates)
            {
                id.Value = callId;
                using var reader = claim.ExecuteReader();
                if (reader.Read())
                {
                    jobs.Add(ReadClaimed(reader));
                    _turns.Served(jobs[^1].Request.Function);
                }
            }

            return jobs;
        });
    }

    private static ClaimedJob ReadClaimed(SqliteDataReader reader)
    {
        var request = new JobRequest(
            reader.GetString(0),
            reader.GetString(1),
            reader.GetString(2),
            reader.GetString(3),
            reader.GetString(4),
            DecodeHeaders(reader.GetString(5)),
            reader.IsDBNull(9) ? null : new Uri(reader.GetString(9)),
            reader.IsDBNull(10) ? null : reader.GetString(10),
            reader.GetInt32(11));
        var body = new StoredBody(reader.IsDBNull(6) ? null : (byte[])reader.GetValue(6), reader.IsDBNull(7) ? null : reader.GetString(7), reader.GetInt64(8));
        return new ClaimedJob(request, body, reader.GetInt32(12)) { DueAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(13)) };
    }

    public Task<IReadOnlySet<string>> RenewAsync(IReadOnlyCollection<string> callIds, CancellationToken cancellationToken)
    {
        if (callIds.Count == 0)
        {
            return Task.FromResult<IReadOnlySet<string>>(new HashSet<string>());
        }

        var until = Now + (long)_lease.TotalMilliseconds;
        return _writer.WriteAsync<IReadOnlySet<string>>(connection =>
        {
            var lost = new HashSet<string>(StringComparer.Ordinal);
            using var renew = connection.CreateCommand();
            renew.CommandText = "UPDATE jobs SET lease_until = $until WHERE call_id = $id AND state = 'running' AND lease_owner = $owner";
            var id = renew.Parameters.Add("$id", SqliteType.Text);
            renew.Parameters.AddWithValue("$until", until);
            renew.Parameters.AddWithValue("$owner", _owner);
            foreach (var callId in callIds)
            {
                id.Value = callId;
                if (renew.ExecuteNonQuery() == 0)
                {
                    lost.Add(callId);
                }
            }

            return lost;
        });
    }

    public Task RetryAsync(string callId, DateTimeOffset due, int statusCode, string error, CancellationToken cancellationToken)
    {
        var now = Now;
        return _writer.WriteAsync(connection => Execute(connection, $"""
            UPDATE jobs SET state = 'queued', due_at = $due, lease_owner = NULL, lease_until = NULL, status_code = $status, error = $error,
                            history = {FinishedHistory}
            WHERE call_id = $id AND state = 'running' AND lease_owner = $owner
            """, [("$id", callId), ("$due", due.ToUnixTimeMilliseconds()), ("$status", statusCode), ("$error", error), ("$owner", _owner), ("$now", now),
                .. AttemptEnd(statusCode, error)]));
    }

    public Task ReleaseAsync(string callId, CancellationToken cancellationToken) =>
        _writer.WriteAsync(connection => Execute(connection, $"""
            UPDATE jobs SET state = 'queued', attempts = attempts - 1, lease_owner = NULL, lease_until = NULL, history = {DroppedHistory}
            WHERE call_id = $id AND state = 'running' AND lease_owner = $owner
            """, ("$id", callId), ("$owner", _owner)));

    public Task<bool> CompleteAsync(string callId, JobOutcome outcome, CancellationToken cancellationToken)
    {
        var now = Now;
        return _writer.WriteAsync(connection => Execute(connection, $"""
            UPDATE jobs SET state = $state, finished_at = $now, status_code = $status, error = $error, duration_ms = $duration,
                            result = $result, result_file = $file, result_length = $length, result_type = $type,
                            callback_state = CASE WHEN callback_url IS NULL THEN 'none' ELSE 'pending' END,
                            callback_due = $now, lease_until = $until, history = {FinishedHistory}
            WHERE call_id = $id AND state = 'running' AND lease_owner = $owner
            """,
            [("$id", callId), ("$owner", _owner), ("$state", QueueNames.Name(outcome.State)), ("$now", now), ("$status", outcome.StatusCode),
            ("$error", outcome.Error), ("$duration", (long)outcome.Duration.TotalMilliseconds), ("$result", outcome.Result.Inline),
            ("$file", outcome.Result.FilePath), ("$length", outcome.Result.Length), ("$type", outcome.ContentType),
            ("$until", now + (long)_callbackLease.TotalMilliseconds), .. AttemptEnd(outcome.StatusCode, outcome.AttemptError ?? outcome.Error)]) == 1);
    }

    private static int Execute(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command.ExecuteNonQuery();
    }

    private async Task<SqliteConnection> OpenReadAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_readConnection);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static string EncodeHeaders(IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        var text = new StringBuilder();
        foreach (var (name, value) in headers)
        {
            text.Append(name).Append(": ").Append(value).Append('\n');
        }

        return text.ToString();
    }

    private static List<KeyValuePair<string, string>> DecodeHeaders(string text)
    {
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (colon > 0)
            {
                headers.Add(new(line[..colon], line[(colon + 2)..]));
            }
        }

        return headers;
    }

    private static DateTimeOffset? Time(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    public ValueTask DisposeAsync() => _writer.DisposeAsync();
}
