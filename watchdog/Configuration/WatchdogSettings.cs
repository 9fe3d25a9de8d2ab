namespace Fwatchdog.Configuration;

/// <summary>Every setting of the function watchdog, in the order of the table in docs/watchdog.md#settings.</summary>
internal static class WatchdogSettings
{
    public static readonly SettingDefinition FunctionProcess = new("fprocess", SettingKind.Command, "(required)", "fprocess=\"python3 handler.py\"",
        "Command run for every request; split with shell-like quoting, no shell runs.", "function_process");

    public static readonly SettingDefinition Port = new("port", SettingKind.Port, "8080", "port=8080",
        "HTTP port for the function, /_/health and /_/ready (0 = pick a free port).");

    public static readonly SettingDefinition BindAddress = new("bind_address", SettingKind.Text, "*", "bind_address=127.0.0.1",
        "Address to listen on; * means every interface.");

    public static readonly SettingDefinition ReadTimeout = new("read_timeout", SettingKind.Duration, "30s", "read_timeout=30s",
        "Time allowed to receive the whole request body (408 and the process is killed when exceeded; 0 = none).");

    public static readonly SettingDefinition WriteTimeout = new("write_timeout", SettingKind.Duration, "30s", "write_timeout=30s",
        "Time allowed from the start of a request until its response is written (the connection is aborted when exceeded; 0 = none).");

    public static readonly SettingDefinition ExecTimeout = new("exec_timeout", SettingKind.Duration, "0", "exec_timeout=10s",
        "Hard limit for one process run; SIGTERM then SIGKILL to its whole process group and 504 (0 = none).");

    public static readonly SettingDefinition HealthcheckInterval = new("healthcheck_interval", SettingKind.Duration, "write_timeout", "healthcheck_interval=5s",
        "After SIGTERM: how long health answers 503 while requests are still served, before the listener closes.");

    public static readonly SettingDefinition KillGrace = new("kill_grace", SettingKind.Duration, "2s", "kill_grace=2s",
        "Time between SIGTERM and SIGKILL when a process group is stopped.");

    public static readonly SettingDefinition MaxInflight = new("max_inflight", SettingKind.Count, "0", "max_inflight=8",
        "Most requests running at once; more get 429 with Retry-After (0 = unlimited).");

    public static readonly SettingDefinition MaxRequestBytes = new("max_request_bytes", SettingKind.Bytes, "0", "max_request_bytes=10MiB",
        "Largest request body accepted; larger gets 413 (0 = unlimited). Accepts B, KB, KiB, MB, MiB, GB, GiB.");

    public static readonly SettingDefinition ResponseBufferBytes = new("response_buffer_bytes", SettingKind.Bytes, "64KiB", "response_buffer_bytes=64KiB",
        "Output held back before the status is sent, so short failing calls get a true 500 (0 = stream at once).");

    public static readonly SettingDefinition MaxSpoolBytes = new("max_spool_bytes", SettingKind.Bytes, "2GiB", "max_spool_bytes=512MiB",
        "Output that may wait (1 MiB in memory, the rest in a $TMPDIR file) while a caller that sends before it reads is still sending; past it the call is stopped (0 = no spool: output waits for the caller).");

    public static readonly SettingDefinition CombineOutput = new("combine_output", SettingKind.Boolean, "false", "combine_output=true",
        "Merge the process's stderr into the response body (the classic default is true: docs/watchdog.md#differences-from-the-openfaas-classic-watchdog).");

    public static readonly SettingDefinition WriteDebug = new("write_debug", SettingKind.Boolean, "false", "write_debug=true",
        "Debug logging, and the tail of stderr in 500 bodies.");

    public static readonly SettingDefinition ContentType = new("content_type", SettingKind.Text, "", "content_type=application/json",
        "Content-Type of successful responses; else the request's, else sniffed from the output (as Go's DetectContentType).");

    public static readonly SettingDefinition CgiHeaders = new("cgi_headers", SettingKind.Boolean, "true", "cgi_headers=false",
        "Pass request details to the process as Http_* environment variables.");

    public static readonly SettingDefinition CgiResponse = new("cgi_response", SettingKind.Boolean, "false", "cgi_response=true",
        "Let stdout begin with CGI headers (Status:, Content-Type:, ...) and a blank line.");

    public static readonly SettingDefinition MarshalRequest = new("marshal_request", SettingKind.Boolean, "false", "marshal_request=true",
        "Send stdin as JSON {\"header\":{...},\"body\":{\"raw\":\"<base64>\"}} instead of the raw body.");

    public static readonly SettingDefinition SuppressLock = new("suppress_lock", SettingKind.Boolean, "false", "suppress_lock=true",
        "Do not write the $TMPDIR/.lock file (health keeps working).");

    public static readonly SettingDefinition LockFile = new("lock_file", SettingKind.Text, "$TMPDIR/.lock", "lock_file=/tmp/fn-a.lock",
        "Lock file written at start and removed at SIGTERM; give each watchdog sharing a host its own.");

    public static readonly SettingDefinition MetricsPort = new("metrics_port", SettingKind.Port, "8081", "metrics_port=8081",
        "Port of the Prometheus /metrics endpoint (0 disables it).");

    public static readonly SettingDefinition PrefixLogs = new("prefix_logs", SettingKind.Boolean, "true", "prefix_logs=false",
        "Prefix each relayed stderr line with the time and call id; false writes the raw line (JSON logs).");

    public static readonly SettingDefinition Runner = new("runner", SettingKind.Text, "native", "runner=native",
        "How processes are started: native (posix_spawn with a new process group, the fast path) or cliwrap (CliWrap under setsid).");

    public static readonly SettingDefinition ExitOnStdinEof = new("exit_on_stdin_eof", SettingKind.Boolean, "false", "exit_on_stdin_eof=true",
        "Drain and exit when the watchdog's own stdin closes (the gateway sets it on local functions, so they never outlive it).");

    public static readonly SettingDefinition Mode = new("mode", SettingKind.Text, "streaming", "mode=http",
        "How the function runs: streaming or serializing (a process per request, as without mode), http (one long-lived HTTP server, proxied) or static (files from static_path).");

    public static readonly SettingDefinition HttpUpstreamUrl = new("http_upstream_url", SettingKind.Text, "(required with mode=http)", "http_upstream_url=http://127.0.0.1:5000",
        "mode=http: the address the function's own server listens on; each request goes to it with its path and query.", "upstream_url");

    public static readonly SettingDefinition HttpBufferReqBody = new("http_buffer_req_body", SettingKind.Boolean, "false", "http_buffer_req_body=true",
        "mode=http: read the whole request body first (spilled to a temp file past 30 KiB) so the function gets a Content-Length, never chunked.", "buffer_http");

    public static readonly SettingDefinition ReadyPath = new("ready_path", SettingKind.Text, "", "ready_path=/healthz",
        "mode=http: /_/health and /_/ready stay 503 until this path of the function answers 2xx (without it: until it accepts connections).");

    public static readonly SettingDefinition StaticPath = new("static_path", SettingKind.Text, "/home/app/public", "static_path=/home/app/public",
        "mode=static: the folder served; / serves its index.html.");

    public static readonly SettingDefinition LogCallId = new("log_call_id", SettingKind.Boolean, "false", "log_call_id=true",
        "Accepted for of-watchdog compatibility; every access line already carries call=<X-Call-Id>.", "log_callid");

    public static readonly SettingDefinition JwtAuth = new("jwt_auth", SettingKind.Boolean, "false", "jwt_auth=false",
        "The of-watchdog's function authentication (OpenFaaS Pro). Not implemented: true stops the watchdog at start, so a function its owner believes protected is never served to anyone.");

    public static readonly IReadOnlyList<SettingDefinition> All =
    [
        FunctionProcess, Port, BindAddress, ReadTimeout, WriteTimeout, ExecTimeout, HealthcheckInterval, KillGrace,
        MaxInflight, MaxRequestBytes, ResponseBufferBytes, MaxSpoolBytes, CombineOutput, WriteDebug, ContentType, CgiHeaders,
        CgiResponse, MarshalRequest, SuppressLock, LockFile, MetricsPort, PrefixLogs, Runner, ExitOnStdinEof,
        Mode, HttpUpstreamUrl, HttpBufferReqBody, ReadyPath, StaticPath, LogCallId, JwtAuth,
    ];
}
