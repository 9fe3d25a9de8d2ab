namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// The one table: a job row carries its request, its lease, its outcome and its callback state.
/// <c>probe</c> holds one row that readiness rewrites to prove the queue can still commit.
/// </summary>
internal sealed partial class SqliteJobQueue
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS jobs (
            call_id TEXT PRIMARY KEY,
            function TEXT NOT NULL,
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            query TEXT NOT NULL,
            headers TEXT NOT NULL,
            body BLOB,
            body_file TEXT,
            body_length INTEGER NOT NULL,
            callback_url TEXT,
            idempotency_key TEXT UNIQUE,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL,
            due_at INTEGER NOT NULL,
            lease_owner TEXT,
            lease_until INTEGER,
            created_at INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER,
            status_code INTEGER,
            error TEXT,
            duration_ms INTEGER,
            result BLOB,
            result_file TEXT,
            result_length INTEGER,
            result_type TEXT,
            callback_state TEXT NOT NULL DEFAULT 'none',
            callback_attempts INTEGER NOT NULL DEFAULT 0,
            callback_due INTEGER,
            callback_status INTEGER,
            callback_error TEXT,
            token TEXT,
            request_hash TEXT
        );
        CREATE INDEX IF NOT EXISTS jobs_due ON jobs (state, due_at);
        CREATE INDEX IF NOT EXISTS jobs_lease ON jobs (state, lease_until);
        CREATE INDEX IF NOT EXISTS jobs_callbacks ON jobs (callback_state, callback_due);
        CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (finished_at);
        CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, at INTEGER NOT NULL);
        """;

    /// <summary>Columns added since the first release, with their types: a database made before them gets them at start.</summary>
    private static readonly (string Name, string Type)[] AddedColumns = [("token", "TEXT"), ("request_hash", "TEXT"), ("history", "TEXT")];

    private static void AddMissingColumns(Microsoft.Data.Sqlite.SqliteConnection connection)
    {
        var present = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using (var info = connection.CreateCommand())
        {
            info.CommandText = "PRAGMA table_info(jobs)";
            using var reader = info.ExecuteReader();
            while (reader.Read())
            {
                present.Add(reader.GetString(1));
            }
        }

        foreach (var (name, type) in AddedColumns.Where(c => !present.Contains(c.Name)))
        {
            using var alter = connection.CreateCommand();
            alter.CommandText = $"ALTER TABLE jobs ADD COLUMN {name} {type}";
            alter.ExecuteNonQuery();
        }
    }
}
