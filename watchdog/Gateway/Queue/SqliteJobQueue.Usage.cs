namespace Fwatchdog.Gateway.Queue;

/// <summary>What a function has queued, for the accept bounds (<c>max_queued</c>, <c>max_queued_bytes</c>).</summary>
internal sealed partial class SqliteJobQueue
{
    /// <summary>Its own statement, run after <see cref="Schema"/>: a database made before it gets the index at the next start. It covers the query (no table reads).</summary>
    private const string UsageIndex = "CREATE INDEX IF NOT EXISTS jobs_function_state ON jobs (function, state, body_length);";

    public async Task<QueueUsage> UsageAsync(string function, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var select = connection.CreateCommand();
        select.CommandText = "SELECT COUNT(*), COALESCE(SUM(body_length), 0) FROM jobs WHERE function = $function AND state IN ('queued', 'running')";
        select.Parameters.AddWithValue("$function", function);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new QueueUsage(reader.GetInt64(0), reader.GetInt64(1)) : default;
    }
}
