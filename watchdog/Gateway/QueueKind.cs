namespace Fwatchdog.Gateway;

/// <summary>The <c>queue</c> setting: where async calls are stored.</summary>
internal enum QueueKind
{
    /// <summary><c>sqlite</c> (the default): an embedded database in data_dir.</summary>
    Sqlite,

    /// <summary><c>nats</c>: NATS JetStream, shared by gateway replicas.</summary>
    Nats,
}
