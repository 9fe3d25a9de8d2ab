namespace Fwatchdog.Configuration;

/// <summary>
/// The function watchdog's settings. Each property names its environment variable (which is
/// also its <c>--flag</c>) and default; see <see cref="WatchdogSettings"/> for the full table.
/// </summary>
internal sealed partial record WatchdogOptions
{
    /// <summary><c>fprocess</c> / <c>function_process</c>: the command line as given.</summary>
    public required string FunctionProcess { get; init; }

    /// <summary>The command line split into argv (first word is the program).</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary><c>port</c>, default 8080; 0 picks a free port.</summary>
    public int Port { get; init; } = 8080;

    /// <summary><c>bind_address</c>, default <c>*</c> (every interface).</summary>
    public string BindAddress { get; init; } = "*";

    /// <summary><c>read_timeout</c>, default 30s; zero means none.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>write_timeout</c>, default 30s; zero means none.</summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>exec_timeout</c>, default 0 (none).</summary>
    public TimeSpan ExecTimeout { get; init; }

    /// <summary><c>healthcheck_interval</c>, default = write_timeout.</summary>
    public TimeSpan HealthcheckInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>kill_grace</c>, default 2s between SIGTERM and SIGKILL.</summary>
    public TimeSpan KillGrace { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary><c>max_inflight</c>, default 0 (unlimited).</summary>
    public int MaxInflight { get; init; }

    /// <summary><c>max_request_bytes</c>, default 0 (unlimited).</summary>
    public long MaxRequestBytes { get; init; }

    /// <summary><c>response_buffer_bytes</c>, default 64 KiB.</summary>
    public int ResponseBufferBytes { get; init; } = 64 * 1024;

    /// <summary><c>max_spool_bytes</c>, default 2 GiB; 0 turns the spool off.</summary>
    public long MaxSpoolBytes { get; init; } = Streaming.SpoolLimits.DefaultMaxBytes;

    /// <summary><c>combine_output</c>, default false.</summary>
    public bool CombineOutput { get; init; }

    /// <summary><c>write_debug</c>, default false.</summary>
    public bool WriteDebug { get; init; }

    /// <summary><c>content_type</c>, default empty (use the request's).</summary>
    public string? ContentType { get; init; }

    /// <summary><c>cgi_headers</c>, default true.</summary>
    public bool CgiHeaders { get; init; } = true;

    /// <summary><c>cgi_response</c>, default false.</summary>
    public bool CgiResponse { get; init; }

    /// <summary><c>marshal_request</c>, default false.</summary>
    public bool MarshalRequest { get; init; }

    /// <summary><c>suppress_lock</c>, default false.</summary>
    public bool SuppressLock { get; init; }

    /// <summary><c>lock_file</c>, default <c>$TMPDIR/.lock</c> (classic).</summary>
    public string LockFile { get; init; } = DefaultLockFile;

    /// <summary><c>metrics_port</c>, default 8081; 0 disables metrics.</summary>
    public int MetricsPort { get; init; } = 8081;

    /// <summary><c>prefix_logs</c>, default true.</summary>
    public bool PrefixLogs { get; init; } = true;

    /// <summary><c>runner</c>: <c>native</c> (default) or <c>cliwrap</c>.</summary>
    public RunnerKind Runner { get; init; } = RunnerKind.Native;

    /// <summary><c>exit_on_stdin_eof</c>, default false.</summary>
    public bool ExitOnStdinEof { get; init; }

    /// <summary>The classic watchdog's lock file: <c>.lock</c> in the OS temp folder.</summary>
    public static string DefaultLockFile => Path.Combine(Path.GetTempPath(), ".lock");

    /// <summary>Span export, from the standard <c>OTEL_*</c> variables (docs/tracing.md); null (the default) when off.</summary>
    public Fwatchdog.Tracing.TraceExport? TraceExport { get; init; }

    /// <summary>Every default, stated once on its property above; <see cref="Parse"/> falls back to these.</summary>
    private static readonly WatchdogOptions Defaults = new() { FunctionProcess = "", Command = [] };

    /// <summary>Builds options from environment and flags, or returns every problem found.</summary>
    public static ParseOutcome<WatchdogOptions> Parse(IReadOnlyDictionary<string, string?> environment, IReadOnlyDictionary<string, string> flags)
    {
        var read = new SettingReader(environment, flags);
        IReadOnlyList<string> command = [];
        var mode = ReadMode(read);
        var fprocess = read.Raw(WatchdogSettings.FunctionProcess);
        if (fprocess is not var (line, source))
        {
            if (mode != FunctionMode.Static)
            {
                read.Missing(WatchdogSettings.FunctionProcess, "it names the command to run for every request");
            }

            line = "";
        }
        else if (!CommandLineSplitter.TrySplit(line, out command, out var splitError))
        {
            read.Fail(WatchdogSettings.FunctionProcess, line, source, splitError);
        }
        else if (command.Count == 0)
        {
            read.Fail(WatchdogSettings.FunctionProcess, line, source, "it holds no command");
        }

        var writeTimeout = read.Duration(WatchdogSettings.WriteTimeout, Defaults.WriteTimeout);
        var traceErrors = new List<string>();
        var options = new WatchdogOptions
        {
            FunctionProcess = line,
            Command = command,
            Port = read.Count(WatchdogSettings.Port, Defaults.Port, 65535),
            BindAddress = read.Text(WatchdogSettings.BindAddress, Defaults.BindAddress),
            ReadTimeout = read.Duration(WatchdogSettings.ReadTimeout, Defaults.ReadTimeout),
            WriteTimeout = writeTimeout,
            ExecTimeout = read.Duration(WatchdogSettings.ExecTimeout, Defaults.ExecTimeout),
            HealthcheckInterval = read.Duration(WatchdogSettings.HealthcheckInterval, writeTimeout),
            KillGrace = read.Duration(WatchdogSettings.KillGrace, Defaults.KillGrace),
            MaxInflight = read.Count(WatchdogSettings.MaxInflight, Defaults.MaxInflight),
            MaxRequestBytes = read.Bytes(WatchdogSettings.MaxRequestBytes, Defaults.MaxRequestBytes),
            ResponseBufferBytes = (int)Math.Min(read.Bytes(WatchdogSettings.ResponseBufferBytes, 64 * 1024), 64L << 20),
            MaxSpoolBytes = read.Bytes(WatchdogSettings.MaxSpoolBytes, Defaults.MaxSpoolBytes),
            CombineOutput = read.Boolean(WatchdogSettings.CombineOutput, Defaults.CombineOutput),
            WriteDebug = read.Boolean(WatchdogSettings.WriteDebug, Defaults.WriteDebug),
            ContentType = read.Raw(WatchdogSettings.ContentType)?.Value,
            CgiHeaders = read.Boolean(WatchdogSettings.CgiHeaders, Defaults.CgiHeaders),
            CgiResponse = read.Boolean(WatchdogSettings.CgiResponse, Defaults.CgiResponse),
            MarshalRequest = read.Boolean(WatchdogSettings.MarshalRequest, Defaults.MarshalRequest),
            SuppressLock = read.Boolean(WatchdogSettings.SuppressLock, Defaults.SuppressLock),
            LockFile = read.Text(WatchdogSettings.LockFile, Defaults.LockFile),
            MetricsPort = read.Count(WatchdogSettings.MetricsPort, Defaults.MetricsPort, 65535),
            PrefixLogs = read.Boolean(WatchdogSettings.PrefixLogs, Defaults.PrefixLogs),
            Runner = read.Text(WatchdogSettings.Runner, "native") == "cliwrap" ? RunnerKind.CliWrap : RunnerKind.Native,
            ExitOnStdinEof = read.Boolean(WatchdogSettings.ExitOnStdinEof, Defaults.ExitOnStdinEof),
            TraceExport = Fwatchdog.Tracing.TraceExport.Read(environment, traceErrors),
        };

        if (read.Raw(WatchdogSettings.Runner) is var (runner, runnerSource) && runner is not ("native" or "cliwrap"))
        {
            read.Fail(WatchdogSettings.Runner, runner, runnerSource, "not a runner (native or cliwrap)");
        }

        if (read.Raw(WatchdogSettings.BindAddress) is var (bind, bindSource) && bind is not ("*" or "localhost") && !System.Net.IPAddress.TryParse(bind, out _))
        {
            read.Fail(WatchdogSettings.BindAddress, bind, bindSource, "not an IP address, * or localhost");
        }

        if (options.MetricsPort != 0 && options.MetricsPort == options.Port)
        {
            read.Fail(WatchdogSettings.MetricsPort, options.MetricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "metrics_port",
                "the same as port; the two servers need different ports");
        }

        if (read.Boolean(WatchdogSettings.JwtAuth, false) && read.Raw(WatchdogSettings.JwtAuth) is var (jwt, jwtSource))
        {
            read.Fail(WatchdogSettings.JwtAuth, jwt, jwtSource,
                "function authentication is not implemented here, and the function would be served to anyone; remove jwt_auth, or put the function behind a gateway with basic_auth");
        }

        options = WithModeSettings(options, mode, read);
        var errors = read.Errors.Concat(traceErrors).ToList();
        return errors.Count == 0 ? ParseOutcome<WatchdogOptions>.Success(options) : ParseOutcome<WatchdogOptions>.Failure(errors);
    }
}
