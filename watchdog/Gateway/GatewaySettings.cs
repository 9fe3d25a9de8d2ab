using Fwatchdog.Configuration;

namespace Fwatchdog.Gateway;

/// <summary>Every setting of <c>fwatchdog gateway</c>, in the order of the table in docs/gateway.md#gateway-settings.</summary>
internal static class GatewaySettings
{
    public static readonly SettingDefinition Config = new("config", SettingKind.Text, "(none)", "config=samples/stack.json",
        "JSON file listing the functions (see \"The stack file\"); needed unless upstream_template is set.");

    public static readonly SettingDefinition Port = new("port", SettingKind.Port, "8080", "port=8080",
        "HTTP port for /function, /async-function, /async-calls, /healthz and /system (0 = pick a free port).");

    public static readonly SettingDefinition BindAddress = new("bind_address", SettingKind.Text, "*", "bind_address=127.0.0.1",
        "Address to listen on; * means every interface.");

    public static readonly SettingDefinition MetricsPort = new("metrics_port", SettingKind.Port, "8082", "metrics_port=8082",
        "Port of the Prometheus /metrics endpoint (0 disables it).");

    public static readonly SettingDefinition UpstreamTimeout = new("upstream_timeout", SettingKind.Duration, "60s", "upstream_timeout=60s",
        "Deadline for one call to a function, sync or async (504 when it fires before the response starts); a function's \"timeout\" overrides it.");

    public static readonly SettingDefinition ReadTimeout = new("read_timeout", SettingKind.Duration, "60s", "read_timeout=60s",
        "Time a caller has to send its request body, counted from the end of its headers (which get read_timeout or 30s, whichever is shorter); a request still arriving then has its connection closed. 0 = no limit. The OpenFaaS gateway's read_timeout.");

    public static readonly SettingDefinition WriteTimeout = new("write_timeout", SettingKind.Duration, "65s", "write_timeout=65s",
        "Time from the end of a request's headers until its response is written; after it the connection is closed. Keep it above upstream_timeout so a slow function gets its 504. 0 = no limit. The OpenFaaS gateway's write_timeout.");

    public static readonly SettingDefinition MaxSpoolBytes = new("max_spool_bytes", SettingKind.Bytes, "2GiB", "max_spool_bytes=512MiB",
        "A sync call's answer that may wait (1 MiB in memory, the rest in a $TMPDIR file) while a caller that sends before it reads is still sending; past it the call is broken off (0 = no spool: the answer waits for the caller).");

    public static readonly SettingDefinition UpstreamTemplate = new("upstream_template", SettingKind.Text, "(none)", "upstream_template=http://{name}.{namespace}:8080",
        "Address of functions not in the stack file, with {name} and {namespace} filled in (Kubernetes/Swarm DNS). A name that does not resolve, or resolves to a loopback, link-local (169.254.169.254 included), unspecified, multicast or broadcast address, is 404.");

    public static readonly SettingDefinition UpstreamAllowLocal = new("upstream_allow_local", SettingKind.Boolean, "false", "upstream_allow_local=true",
        "Let names filled into upstream_template reach loopback, link-local (cloud metadata included), unspecified, multicast and broadcast addresses; only where every caller may reach the gateway's own host.");

    public static readonly SettingDefinition FunctionNamespace = new("function_namespace", SettingKind.Text, "openfaas-fn", "function_namespace=openfaas-fn",
        "Namespace used for {namespace} when the name has no .namespace suffix.");

    public static readonly SettingDefinition DataDir = new("data_dir", SettingKind.Text, "./fwatchdog-data", "data_dir=/var/lib/fwatchdog",
        "Folder of the embedded queue (SQLite in WAL mode) and of large bodies.");

    public static readonly SettingDefinition Queue = new("queue", SettingKind.Text, "sqlite", "queue=nats",
        "Queue backend: sqlite (embedded, one machine) or nats (NATS JetStream, shared by several gateway replicas).");

    public static readonly SettingDefinition NatsUrl = new("nats_url", SettingKind.Text, "nats://127.0.0.1:4222", "nats_url=nats://nats:4222",
        "NATS server(s) for queue=nats; comma-separated for a cluster.");

    public static readonly SettingDefinition NatsStream = new("nats_stream", SettingKind.Text, "FWATCHDOG_JOBS", "nats_stream=FWATCHDOG_JOBS",
        "JetStream work-queue stream of queued calls (dead letters go to <nats_stream>_DEAD).");

    public static readonly SettingDefinition NatsSubject = new("nats_subject", SettingKind.Text, "fwatchdog.jobs", "nats_subject=fwatchdog.jobs",
        "Subject prefix: calls of function f are published on <nats_subject>.f (dead letters on <nats_subject>_dead.f).");

    public static readonly SettingDefinition NatsConsumer = new("nats_consumer", SettingKind.Text, "fwatchdog-workers", "nats_consumer=fwatchdog-workers",
        "Prefix of the durable pull consumers shared by all gateway replicas: one per function, <nats_consumer>-<function>.");

    public static readonly SettingDefinition NatsBucket = new("nats_bucket", SettingKind.Text, "fwatchdog-calls", "nats_bucket=fwatchdog-calls",
        "Key-value bucket holding call status and idempotency keys (large bodies go to the object store <nats_bucket>-bodies).");

    public static readonly SettingDefinition NatsReplicas = new("nats_replicas", SettingKind.Count, "1", "nats_replicas=3",
        "Copies JetStream keeps of the queue's streams, status bucket and body store (1 to 5, at most the cluster's servers); 3 on a three-node cluster survives the loss of one node. Existing ones are changed to it at start.");

    public static readonly SettingDefinition AsyncMaxBodyBytes = new("async_max_body_bytes", SettingKind.Bytes, "10MiB", "async_max_body_bytes=10MiB",
        "Largest async request body accepted; larger gets 413 before anything is queued.");

    public static readonly SettingDefinition AsyncMaxQueued = new("async_max_queued", SettingKind.Count, "10000", "async_max_queued=10000",
        "Async calls of one function that may wait or run at once (not yet finished); one more gets 429 with Retry-After and is not stored. A function's \"max_queued\" overrides it; 0 = no limit.");

    public static readonly SettingDefinition AsyncMaxQueuedBytes = new("async_max_queued_bytes", SettingKind.Bytes, "1GiB", "async_max_queued_bytes=1GiB",
        "Request bodies of one function's unfinished async calls, added up; a call that would pass it gets 429 with Retry-After. A function's \"max_queued_bytes\" overrides it; 0 = no limit.");

    public static readonly SettingDefinition AsyncMaxDiskBytes = new("async_max_disk_bytes", SettingKind.Bytes, "8GiB", "async_max_disk_bytes=8GiB",
        "Budget for everything in data_dir (queue, bodies, results kept for async_retention); an async call that would pass it gets 507 with Retry-After and is not stored. 0 = no limit.");

    public static readonly SettingDefinition QueueWorkers = new("queue_workers", SettingKind.Count, "16", "queue_workers=16",
        "Async calls run at once by this gateway, over all functions (a function's \"max_concurrency\" caps it per function).", "max_inflight");

    public static readonly SettingDefinition QueueFunctions = new("queue_functions", SettingKind.Text, "(all)", "queue_functions=resize,thumbnail",
        "Comma-separated functions whose async calls this gateway's workers run (it still accepts calls for all). With queue=nats, give each such worker pool its own nats_consumer, and keep the pools' lists disjoint.");

    public static readonly SettingDefinition QueueLease = new("queue_lease", SettingKind.Duration, "30s", "queue_lease=30s",
        "Lease on a claimed job; renewed every third of it while the call runs, so only a dead gateway's jobs are run again.");

    public static readonly SettingDefinition MaxAttempts = new("max_attempts", SettingKind.Count, "5", "max_attempts=5",
        "Attempts per async call (1 = no retry); after the last failed one the job is dead-lettered.");

    public static readonly SettingDefinition RetryCodes = new("retry_codes", SettingKind.Text, "429,502,503,504", "retry_codes=408,429,500,502,503,504",
        "Function statuses that are retried (connection failures always are).");

    public static readonly SettingDefinition InitialRetryWait = new("initial_retry_wait", SettingKind.Duration, "1s", "initial_retry_wait=1s",
        "First retry delay; doubles each attempt with full jitter, up to max_retry_wait. Retry-After wins when larger.");

    public static readonly SettingDefinition MaxRetryWait = new("max_retry_wait", SettingKind.Duration, "60s", "max_retry_wait=60s",
        "Longest delay between two attempts (also caps Retry-After).");

    public static readonly SettingDefinition CallbackAttempts = new("callback_attempts", SettingKind.Count, "5", "callback_attempts=5",
        "Attempts to deliver one callback (retried on connection errors, timeouts and 5xx).");

    public static readonly SettingDefinition CallbackTimeout = new("callback_timeout", SettingKind.Duration, "10s", "callback_timeout=10s",
        "Time allowed for one callback POST.");

    public static readonly SettingDefinition CallbackAllowedHosts = new("callback_allowed_hosts", SettingKind.Text, "(any)", "callback_allowed_hosts=hooks.example.com,*.internal",
        "Comma-separated hosts that X-Callback-Url may name (*.domain for subdomains, host:port or [v6]:port for one port); others get 400. Unset, any host may be named, but none that resolves to a loopback, link-local, unspecified, multicast or broadcast address; a host listed here by name (127.0.0.1:8080, localhost) is called back whatever it resolves to, on the port listed, or on any port when none is.");

    public static readonly SettingDefinition CallbackSecretFile = new("callback_secret_file", SettingKind.Text, "(none)", "callback_secret_file=/run/secrets/callback-secret",
        "File holding the key for the X-Callback-Signature HMAC-SHA256 header on callbacks.");

    public static readonly SettingDefinition AsyncRetention = new("async_retention", SettingKind.Duration, "24h", "async_retention=24h",
        "How long finished async calls (status and result) are kept.");

    public static readonly SettingDefinition AsyncKeepCredentials = new("async_keep_credentials", SettingKind.Boolean, "false", "async_keep_credentials=true",
        "Store Authorization and Cookie headers with queued calls (dropped by default, so secrets do not sit in the queue).");

    public static readonly SettingDefinition BasicAuth = new("basic_auth", SettingKind.Boolean, "false", "basic_auth=true",
        "Require basic auth on /system/*; credentials come from the files basic-auth-user and basic-auth-password in secret_mount_path.");

    public static readonly SettingDefinition SecretMountPath = new("secret_mount_path", SettingKind.Text, "/run/secrets/", "secret_mount_path=/run/secrets/",
        "Folder of the basic auth files.");

    public static readonly SettingDefinition ShutdownTimeout = new("shutdown_timeout", SettingKind.Duration, "30s", "shutdown_timeout=30s",
        "After SIGTERM: time running async calls get to finish; the rest are released to the queue.");

    public static readonly SettingDefinition WriteDebug = new("write_debug", SettingKind.Boolean, "false", "write_debug=true",
        "Debug logging.");

    public static readonly IReadOnlyList<SettingDefinition> All =
    [
        Config, Port, BindAddress, MetricsPort, UpstreamTimeout, ReadTimeout, WriteTimeout, MaxSpoolBytes, UpstreamTemplate, UpstreamAllowLocal, FunctionNamespace, DataDir,
        Queue, NatsUrl, NatsStream, NatsSubject, NatsConsumer, NatsBucket, NatsReplicas, AsyncMaxBodyBytes, AsyncMaxQueued, AsyncMaxQueuedBytes, AsyncMaxDiskBytes, QueueWorkers, QueueFunctions, QueueLease, MaxAttempts, RetryCodes, InitialRetryWait, MaxRetryWait,
        CallbackAttempts, CallbackTimeout, CallbackAllowedHosts, CallbackSecretFile, AsyncRetention, AsyncKeepCredentials,
        BasicAuth, SecretMountPath, ShutdownTimeout, WriteDebug,
    ];
}
