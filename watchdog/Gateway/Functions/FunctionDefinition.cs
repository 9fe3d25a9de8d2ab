namespace Fwatchdog.Gateway.Functions;

/// <summary>
/// One function from the stack file: either a fixed <see cref="Upstream"/>, a local
/// <see cref="Fprocess"/> the gateway runs under its own fwatchdog child, or neither (then
/// <c>upstream_template</c> gives the address).
/// </summary>
internal sealed record FunctionDefinition
{
    public required string Name { get; init; }

    /// <summary><c>upstream</c>: base address of the function's watchdog.</summary>
    public Uri? Upstream { get; init; }

    /// <summary><c>fprocess</c>: run the function locally with this command.</summary>
    public string? Fprocess { get; init; }

    /// <summary><c>environment</c>: watchdog settings and variables for a local function.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary><c>working_directory</c> of a local function; default the stack file's folder.</summary>
    public string WorkingDirectory { get; init; } = ".";

    /// <summary><c>timeout</c>: this function's upstream deadline; default <c>upstream_timeout</c>.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary><c>max_concurrency</c>: async calls of this function run at once; default <c>queue_workers</c>.</summary>
    public int? MaxConcurrency { get; init; }

    /// <summary><c>max_attempts</c>: overrides the gateway's <c>max_attempts</c> for this function.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary><c>max_queued</c>: this function's unfinished async calls at most; overrides <c>async_max_queued</c>.</summary>
    public int? MaxQueued { get; init; }

    /// <summary><c>max_queued_bytes</c>: request bytes of this function's unfinished async calls at most; overrides <c>async_max_queued_bytes</c>.</summary>
    public long? MaxQueuedBytes { get; init; }

    /// <summary><c>labels</c>: as in a faas-cli stack.yml; shown by /system/functions, not used by the gateway.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary><c>annotations</c>: as in a faas-cli stack.yml; shown by /system/functions, where connectors read them (the cron-connector's <c>topic</c> and <c>schedule</c>).</summary>
    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();

    public bool IsLocal => Fprocess is not null;
}
