using System.Globalization;
using Fwatchdog.Configuration;
using Fwatchdog.Gateway.Functions;

namespace Fwatchdog.Gateway;

/// <summary>
/// The gateway's settings (environment variables or <c>--flags</c>, see <see cref="GatewaySettings"/>)
/// plus the functions of the stack file. Built by the pure <see cref="Parse"/>.
/// </summary>
internal sealed partial record GatewayOptions
{
    /// <summary><c>config</c>: path of the stack file, if any.</summary>
    public string? ConfigPath { get; init; }

    public IReadOnlyList<FunctionDefinition> Functions { get; init; } = [];

    /// <summary><c>port</c>, default 8080.</summary>
    public int Port { get; init; } = 8080;

    /// <summary><c>bind_address</c>, default <c>*</c>.</summary>
    public string BindAddress { get; init; } = "*";

    /// <summary><c>metrics_port</c>, default 8082; 0 disables metrics.</summary>
    public int MetricsPort { get; init; } = 8082;

    /// <summary><c>upstream_timeout</c>, default 60s.</summary>
    public TimeSpan UpstreamTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary><c>read_timeout</c> (flag <c>--read_timeout</c>), default 60s; zero is no limit.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary><c>write_timeout</c> (flag <c>--write_timeout</c>), default 65s; zero is no limit.</summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(65);

    /// <summary><c>max_spool_bytes</c>, default 2 GiB; 0 turns the spool off.</summary>
    public long MaxSpoolBytes { get; init; } = Streaming.SpoolLimits.DefaultMaxBytes;

    /// <summary><c>upstream_template</c>, e.g. <c>http://{name}.{namespace}:8080</c>.</summary>
    public string? UpstreamTemplate { get; init; }

    /// <summary><c>upstream_allow_local</c> (flag <c>--upstream_allow_local</c>), default false: names filled into <c>upstream_template</c> may not reach refused addresses.</summary>
    public bool UpstreamAllowLocal { get; init; }

    /// <summary><c>function_namespace</c>, default <c>openfaas-fn</c>.</summary>
    public string FunctionNamespace { get; init; } = "openfaas-fn";

    /// <summary><c>data_dir</c>, default <c>./fwatchdog-data</c>.</summary>
    public string DataDir { get; init; } = "./fwatchdog-data";

    /// <summary><c>queue</c>: <c>sqlite</c> (default) or <c>nats</c>.</summary>
    public QueueKind Queue { get; init; } = QueueKind.Sqlite;

    /// <summary><c>nats_url</c>, <c>nats_stream</c>, <c>nats_subject</c>, <c>nats_consumer</c>, <c>nats_bucket</c>.</summary>
    public NatsQueueOptions Nats { get; init; } = new();

    /// <summary><c>async_max_body_bytes</c>, default 10 MiB.</summary>
    public long AsyncMaxBodyBytes { get; init; } = 10 << 20;

    /// <summary><c>async_max_queued</c> (flag <c>--async_max_queued</c>), default 10000 unfinished calls per function; 0 is no limit.</summary>
    public int AsyncMaxQueued { get; init; } = 10_000;

    /// <summary><c>async_max_queued_bytes</c> (flag <c>--async_max_queued_bytes</c>), default 1 GiB of request bodies per function; 0 is no limit.</summary>
    public long AsyncMaxQueuedBytes { get; init; } = 1L << 30;

    /// <summary><c>async_max_disk_bytes</c> (flag <c>--async_max_disk_bytes</c>), default 8 GiB for all of data_dir; 0 is no limit.</summary>
    public long AsyncMaxDiskBytes { get; init; } = 8L << 30;

    /// <summary><c>queue_workers</c>, default 16.</summary>
    public int QueueWorkers { get; init; } = 16;

    /// <summary><c>queue_functions</c>: the functions this gateway's workers run; empty means all.</summary>
    public IReadOnlyList<string> QueueFunctions { get; init; } = [];

    /// <summary><c>queue_lease</c>, default 30s.</summary>
    public TimeSpan QueueLease { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>max_attempts</c>, default 5.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary><c>retry_codes</c>, default 429, 502, 503, 504.</summary>
    public IReadOnlySet<int> RetryCodes { get; init; } = new HashSet<int> { 429, 502, 503, 504 };

    /// <summary><c>initial_retry_wait</c>, default 1s.</summary>
    public TimeSpan InitialRetryWait { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><c>max_retry_wait</c>, default 60s.</summary>
    public TimeSpan MaxRetryWait { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary><c>callback_attempts</c>, default 5.</summary>
    public int CallbackAttempts { get; init; } = 5;

    /// <summary><c>callback_timeout</c>, default 10s.</summary>
    public TimeSpan CallbackTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary><c>callback_allowed_hosts</c>; empty allows any host.</summary>
    public IReadOnlyList<string> CallbackAllowedHosts { get; init; } = [];

    /// <summary>The key read from <c>callback_secret_file</c>, if set.</summary>
    public byte[]? CallbackSecret { get; init; }

    /// <summary><c>async_retention</c>, default 24h.</summary>
    public TimeSpan AsyncRetention { get; init; } = TimeSpan.FromHours(24);

    /// <summary><c>async_keep_credentials</c>, default false.</summary>
    public bool AsyncKeepCredentials { get; init; }

    /// <summary>User and password read from <c>secret_mount_path</c> when <c>basic_auth</c> is on.</summary>
    public (string User, string Password)? BasicAuth { get; init; }

    /// <summary><c>shutdown_timeout</c>, default 30s.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>write_debug</c>, default false.</summary>
    public bool WriteDebug { get; init; }

    /// <summary>The command that starts a local function's watchdog; default this executable.</summary>
    public IReadOnlyList<string> WatchdogCommand { get; init; } = DefaultWatchdogCommand();

    /// <summary>Span export, from the standard <c>OTEL_*</c> variables (docs/tracing.md); null (the default) when off.</summary>
    public Fwatchdog.Tracing.TraceExport? TraceExport { get; init; }

    /// <summary>Every default, stated once on its property above; <see cref="Parse"/> falls back to these.</summary>
    private static readonly GatewayOptions Defaults = new();

    public static ParseOutcome<GatewayOptions> Parse(IReadOnlyDictionary<string, string?> environment, IReadOnlyDictionary<string, string> flags)
    {
        var read = new SettingReader(environment, flags);
        var errors = new List<string>();
        var functions = ReadStackFile(read, errors);
        var template = read.Raw(GatewaySettings.UpstreamTemplate);
        if (template is var (templateText, templateSource) && !IsTemplate(templateText))
        {
            read.Fail(GatewaySettings.UpstreamTemplate, templateText, templateSource, "not an http:// address containing {name} (functions are reached over plain HTTP)");
        }

        if (read.Raw(GatewaySettings.Config) is null && template is null)
        {
            read.Missing(GatewaySettings.Config, "the gateway needs a stack file listing functions, or upstream_template");
        }

        var options = new GatewayOptions
        {
            ConfigPath = read.Raw(GatewaySettings.Config)?.Value,
            Functions = functions,
            Port = read.Count(GatewaySettings.Port, Defaults.Port, 65535),
            BindAddress = read.Text(GatewaySettings.BindAddress, Defaults.BindAddress),
            MetricsPort = read.Count(GatewaySettings.MetricsPort, Defaults.MetricsPort, 65535),
            UpstreamTimeout = read.Duration(GatewaySettings.UpstreamTimeout, Defaults.UpstreamTimeout),
            ReadTimeout = read.Duration(GatewaySettings.ReadTimeout, Defaults.ReadTimeout),
            WriteTimeout = read.Duration(GatewaySettings.WriteTimeout, Defaults.WriteTimeout),
            MaxSpoolBytes = read.Bytes(GatewaySettings.MaxSpoolBytes, Defaults.MaxSpoolBytes),
            UpstreamTemplate = template?.Value,
            UpstreamAllowLocal = read.Boolean(GatewaySettings.UpstreamAllowLocal, Defaults.UpstreamAllowLocal),
            FunctionNamespace = read.Text(GatewaySettings.FunctionNamespace, Defaults.FunctionNamespace),
            DataDir = read.Text(GatewaySettings.DataDir, Defaults.DataDir),
            Queue = read.Text(GatewaySettings.Queue, "sqlite") == "nats" ? QueueKind.Nats : QueueKind.Sqlite,
            Nats = new NatsQueueOptions
            {
                Url = read.Text(GatewaySettings.NatsUrl, Defaults.Nats.Url),
                Stream = read.Text(GatewaySettings.NatsStream, Defaults.Nats.Stream),
                Subject = read.Text(GatewaySettings.NatsSubject, Defaults.Nats.Subject),
                Consumer = read.Text(GatewaySettings.NatsConsumer, Defaults.Nats.Consumer),
                Bucket = read.Text(GatewaySettings.NatsBucket, Defaults.Nats.Bucket),
                Replicas = read.Count(GatewaySettings.NatsReplicas, Defaults.Nats.Replicas, NatsQueueOptions.MaxReplicas),
            },
            AsyncMaxBodyBytes = read.Bytes(GatewaySettings.AsyncMaxBodyBytes, Defaults.AsyncMaxBodyBytes),
            AsyncMaxQueued = read.Count(GatewaySettings.AsyncMaxQueued, Defaults.AsyncMaxQueued),
            AsyncMaxQueuedBytes = read.Bytes(GatewaySettings.AsyncMaxQueuedBytes, Defaults.AsyncMaxQueuedBytes),
            AsyncMaxDiskBytes = read.Bytes(GatewaySettings.AsyncMaxDiskBytes, Defaults.AsyncMaxDiskBytes),
            QueueWorkers = read.Count(GatewaySettings.QueueWorkers, Defaults.QueueWorkers, 4096),
            QueueFunctions = read.Text(GatewaySettings.QueueFunctions, "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            QueueLease = read.Duration(GatewaySettings.QueueLease, Defaults.QueueLease),
            MaxAttempts = read.Count(GatewaySettings.MaxAttempts, Defaults.MaxAttempts, 1000),
            RetryCodes = ReadRetryCodes(read),
            InitialRetryWait = read.Duration(GatewaySettings.InitialRetryWait, Defaults.InitialRetryWait),
            MaxRetryWait = read.Duration(GatewaySettings.MaxRetryWait, Defaults.MaxRetryWait),
            CallbackAttempts = read.Count(GatewaySettings.CallbackAttempts, Defaults.CallbackAttempts, 1000),
            CallbackTimeout = read.Duration(GatewaySettings.CallbackTimeout, Defaults.CallbackTimeout),
            CallbackAllowedHosts = read.Text(GatewaySettings.CallbackAllowedHosts, "")
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            CallbackSecret = ReadSecretFile(read),
            AsyncRetention = read.Duration(GatewaySettings.AsyncRetention, Defaults.AsyncRetention),
            AsyncKeepCredentials = read.Boolean(GatewaySettings.AsyncKeepCredentials, Defaults.AsyncKeepCredentials),
            BasicAuth = ReadBasicAuth(read),
            ShutdownTimeout = read.Duration(GatewaySettings.ShutdownTimeout, Defaults.ShutdownTimeout),
            WriteDebug = read.Boolean(GatewaySettings.WriteDebug, Defaults.WriteDebug),
            TraceExport = Fwatchdog.Tracing.TraceExport.Read(environment, errors),
        };

        RequireAboveZero(read, GatewaySettings.UpstreamTimeout, options.UpstreamTimeout == TimeSpan.Zero);
        RequireAboveZero(read, GatewaySettings.QueueLease, options.QueueLease == TimeSpan.Zero);
        RequireAboveZero(read, GatewaySettings.CallbackTimeout, options.CallbackTimeout == TimeSpan.Zero);
        RequireAboveZero(read, GatewaySettings.QueueWorkers, options.QueueWorkers == 0);
        RequireAboveZero(read, GatewaySettings.NatsReplicas, options.Nats.Replicas == 0);
        RequireAboveZero(read, GatewaySettings.MaxAttempts, options.MaxAttempts == 0);
        RequireAboveZero(read, GatewaySettings.CallbackAttempts, options.CallbackAttempts == 0);
        if (read.Raw(GatewaySettings.BindAddress) is var (bind, bindSource) && bind is not ("*" or "localhost") && !System.Net.IPAddress.TryParse(bind, out _))
        {
            read.Fail(GatewaySettings.BindAddress, bind, bindSource, "not an IP address, * or localhost");
        }

        if (read.Raw(GatewaySettings.QueueFunctions) is var (scope, scopeSource) && options.QueueFunctions.Any(f => !FunctionName.IsValid(f)))
        {
            read.Fail(GatewaySettings.QueueFunctions, scope, scopeSource, "not a comma-separated list of function names");
        }

        if (read.Raw(GatewaySettings.Queue) is var (queue, queueSource) && queue is not ("sqlite" or "nats"))
        {
            read.Fail(GatewaySettings.Queue, queue, queueSource, "not a queue backend (sqlite or nats)");
        }

        foreach (var (setting, valid) in new[]
        {
            (GatewaySettings.NatsStream, NatsQueueOptions.IsName(options.Nats.Stream)),
            (GatewaySettings.NatsConsumer, NatsQueueOptions.IsName(options.Nats.Consumer)),
            (GatewaySettings.NatsBucket, NatsQueueOptions.IsName(options.Nats.Bucket)),
            (GatewaySettings.NatsSubject, NatsQueueOptions.IsSubject(options.Nats.Subject)),
        })
        {
            if (!valid && read.Raw(setting) is var (text, source))
            {
                read.Fail(setting, text, source, "not a valid NATS name (letters, digits, - and _; subjects may also contain dots)");
            }
        }

        if (read.Raw(GatewaySettings.NatsUrl) is var (url, urlSource)
            && url.Split(',').Any(u => !Uri.TryCreate(u.Trim(), UriKind.Absolute, out var parsed) || parsed.Scheme is not ("nats" or "tls" or "ws" or "wss")))
        {
            read.Fail(GatewaySettings.NatsUrl, url, urlSource, "not a NATS URL (nats://host:port)");
        }

        if (options.MetricsPort != 0 && options.MetricsPort == options.Port)
        {
            read.Fail(GatewaySettings.MetricsPort, options.MetricsPort.ToString(CultureInfo.InvariantCulture), "metrics_port",
                "the same as port; the two servers need different ports");
        }

        errors.InsertRange(0, read.Errors);
        return errors.Count == 0 ? ParseOutcome<GatewayOptions>.Success(options) : ParseOutcome<GatewayOptions>.Failure(errors);
    }

}
