namespace Fwatchdog.Gateway;

/// <summary>Where the NATS JetStream queue lives (<c>queue=nats</c>).</summary>
internal sealed record NatsQueueOptions
{
    /// <summary><c>nats_url</c>, default <c>nats://127.0.0.1:4222</c>.</summary>
    public string Url { get; init; } = "nats://127.0.0.1:4222";

    /// <summary><c>nats_stream</c>, default <c>FWATCHDOG_JOBS</c>.</summary>
    public string Stream { get; init; } = "FWATCHDOG_JOBS";

    /// <summary><c>nats_subject</c>, default <c>fwatchdog.jobs</c>.</summary>
    public string Subject { get; init; } = "fwatchdog.jobs";

    /// <summary><c>nats_consumer</c>, default <c>fwatchdog-workers</c>.</summary>
    public string Consumer { get; init; } = "fwatchdog-workers";

    /// <summary><c>nats_bucket</c>, default <c>fwatchdog-calls</c>.</summary>
    public string Bucket { get; init; } = "fwatchdog-calls";

    /// <summary><c>nats_replicas</c>, default 1: copies of every stream, bucket and object store.</summary>
    public int Replicas { get; init; } = 1;

    /// <summary>JetStream's own limit on a stream's replicas.</summary>
    public const int MaxReplicas = 5;

    public static bool IsName(string name) => name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    public static bool IsSubject(string subject) => subject.Split('.').All(IsName);
}
