using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// The only connection that writes. Operations queue up and run in batches, one transaction
/// and one fsync (synchronous=FULL) per batch: group commit. That keeps every 202 durable
/// without paying one disk flush per request. Each operation runs inside its own savepoint so
/// one failing statement cannot undo its neighbours. A failing batch (another process holding the
/// write lock past busy_timeout, a full disk, a read-only file) fails its operations and the loop
/// goes on, so the queue writes again as soon as the fault is gone.
/// </summary>
internal sealed class SqliteWriter : IAsyncDisposable
{
    private const int MaxBatch = 512;
    private readonly SqliteConnection _connection;
    private readonly Channel<Operation> _operations = Channel.CreateUnbounded<Operation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;

    public SqliteWriter(string connectionString)
    {
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;");
        _loop = Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    public void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Runs <paramref name="work"/> in the next batch; completes after that batch is committed to disk.</summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, T> work)
    {
        var operation = new Operation<T>(work);
        if (!_operations.Writer.TryWrite(operation))
        {
            throw new ObjectDisposedException(nameof(SqliteWriter), "the queue is shut down");
        }

        return operation.Completion.Task;
    }

    private async Task RunAsync()
    {
        var batch = new List<Operation>(MaxBatch);
        while (await _operations.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && _operations.Reader.TryRead(out var operation))
            {
                batch.Add(operation);
            }

            try
            {
                using (var begin = _connection.CreateCommand())
                {
                    begin.CommandText = "BEGIN IMMEDIATE";
                    begin.ExecuteNonQuery();
                }

                foreach (var operation in batch)
                {
                    operation.RunInSavepoint(_connection);
                }

                using (var commit = _connection.CreateCommand())
                {
                    commit.CommandText = "COMMIT";
                    commit.ExecuteNonQuery();
                }

                foreach (var operation in batch)
                {
                    operation.Publish();
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Any failure, not only SQLite's: a dead loop would leave every later write waiting for good.
                TryRollback();
                foreach (var operation in batch)
                {
                    operation.Fail(e);
                }
            }

            batch.Clear();
        }
    }

    private void TryRollback()
    {
        try
        {
            Execute("ROLLBACK");
        }
        catch (Exception e) when (e is SqliteException or InvalidOperationException)
        {
            // No transaction was open (BEGIN failed), or SQLite rolled back already.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _operations.Writer.TryComplete();
        await _loop;
        await _connection.DisposeAsync();
    }

    private abstract class Operation
    {
        public abstract void RunInSavepoint(SqliteConnection connection);

        public abstract void Publish();

        public abstract void Fail(Exception error);
    }

    private sealed class Operation<T>(Func<SqliteConnection, T> work) : Operation
    {
        private Action? _publish;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void RunInSavepoint(SqliteConnection connection)
        {
            using var savepoint = connection.CreateCommand();
            savepoint.CommandText = "SAVEPOINT op";
            savepoint.ExecuteNonQuery();
            try
            {
                var result = work(connection);
                _publish = () => Completion.TrySetResult(result);
                savepoint.CommandText = "RELEASE op";
                savepoint.ExecuteNonQuery();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _publish = () => Completion.TrySetException(e);
                savepoint.CommandText = "ROLLBACK TO op; RELEASE op";
                savepoint.ExecuteNonQuery();
            }
        }

        public override void Publish() => _publish?.Invoke();

        public override void Fail(Exception error) => Completion.TrySetException(error);
    }
}
