using System.Text;

namespace Fwatchdog.Gateway.Queue;

/// <summary>The listing of calls, newest first, a page at a time.</summary>
internal sealed partial class SqliteJobQueue
{
    /// <summary>
    /// Run after <see cref="Schema"/> at every start, so a database made before them gets them
    /// then. Each serves one filter in the listing's order, so a page reads its own rows and stops
    /// (100,000 calls stored: see BENCHMARKS.md): all calls, one function's, and the states an
    /// operator looks for. That one is partial, so the states every call passes through (queued,
    /// running, succeeded) never write it; a listing of those walks <c>jobs_created_at</c> and
    /// filters. Each insert still adds two entries: about a fifth of the accept rate (BENCHMARKS.md).
    /// </summary>
    private const string ListingIndexes = """
        CREATE INDEX IF NOT EXISTS jobs_created_at ON jobs (created_at);
        CREATE INDEX IF NOT EXISTS jobs_function_created_at ON jobs (function, created_at);
        CREATE INDEX IF NOT EXISTS jobs_ended_created_at ON jobs (state, created_at)
            WHERE state = 'failed' OR state = 'dead' OR state = 'cancelled';
        """;

    public async Task<CallPage> ListAsync(CallQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var select = connection.CreateCommand();
        var where = new List<string>();
        if (query.Function is { } function)
        {
            where.Add("function = $function");
            select.Parameters.AddWithValue("$function", function);
        }

        if (query.States is { } states)
        {
            // Written out, not bound: SQLite uses the partial jobs_ended_created only for a term it
            // can see in the index's own WHERE (state = 'dead'), and the names are our enum's.
            where.Add(states.Count == 1
                ? $"state = '{QueueNames.Name(states.First())}'"
                : "state IN (" + string.Join(", ", states.Select(state => $"'{QueueNames.Name(state)}'")) + ")");
        }

        if (query.Since is { } since)
        {
            where.Add("created_at >= $since");
            select.Parameters.AddWithValue("$since", since.ToUnixTimeMilliseconds());
        }

        if (query.After is { } after)
        {
            where.Add("(created_at, call_id) < ($at, $id)");
            select.Parameters.AddWithValue("$at", after.CreatedAt);
            select.Parameters.AddWithValue("$id", after.CallId);
        }

        var sql = new StringBuilder($"SELECT {StatusColumns} FROM jobs");
        if (where.Count > 0)
        {
            sql.Append(" WHERE ").AppendJoin(" AND ", where);
        }

        // One more than the page: whether there is a next page, without counting.
        sql.Append(" ORDER BY created_at DESC, call_id DESC LIMIT $limit");
        select.Parameters.AddWithValue("$limit", query.Limit + 1);
        select.CommandText = sql.ToString();
        var calls = new List<JobStatus>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            calls.Add(ReadStatus(reader));
        }

        return CallPage.Of(calls, query.Limit, olderUnlisted: false);
    }
}
