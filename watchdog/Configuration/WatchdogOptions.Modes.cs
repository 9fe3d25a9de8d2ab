namespace Fwatchdog.Configuration;

/// <summary>The of-watchdog's modes and the settings that only matter in one of them.</summary>
internal sealed partial record WatchdogOptions
{
    public const string StreamingMode = "streaming";
    public const string SerializingMode = "serializing";
    public const string HttpMode = "http";
    public const string StaticMode = "static";

    /// <summary>
    /// <c>mode</c>, default <c>streaming</c>. <c>streaming</c> and <c>serializing</c> both mean our
    /// fork-per-request behaviour (status from the exit code, <c>response_buffer_bytes</c> held back);
    /// <c>http</c> proxies to one long-lived server; <c>static</c> serves <see cref="StaticPath"/>.
    /// </summary>
    public FunctionMode Mode { get; init; } = FunctionMode.Streaming;

    /// <summary><c>http_upstream_url</c> / <c>upstream_url</c>: required with mode=http.</summary>
    public Uri? UpstreamUrl { get; init; }

    /// <summary><c>http_buffer_req_body</c> / <c>buffer_http</c>, default false.</summary>
    public bool BufferRequestBody { get; init; }

    /// <summary><c>ready_path</c>, default none: readiness is "the upstream accepts connections".</summary>
    public string? ReadyPath { get; init; }

    /// <summary><c>static_path</c>, default /home/app/public (made absolute).</summary>
    public string StaticPath { get; init; } = "/home/app/public";

    /// <summary><c>log_call_id</c> / <c>log_callid</c>, default false (the call id is always logged).</summary>
    public bool LogCallId { get; init; }

    public bool IsHttpMode => Mode == FunctionMode.Http;

    public bool IsStaticMode => Mode == FunctionMode.Static;

    private static FunctionMode ReadMode(SettingReader read)
    {
        if (read.Raw(WatchdogSettings.Mode) is not var (mode, source))
        {
            return FunctionMode.Streaming;
        }

        switch (mode)
        {
            case StreamingMode:
                return FunctionMode.Streaming;
            case SerializingMode:
                return FunctionMode.Serializing;
            case HttpMode:
                return FunctionMode.Http;
            case StaticMode:
                return FunctionMode.Static;
        }

        read.Fail(WatchdogSettings.Mode, mode, source, mode is "inproc" or "afterburn"
            ? "not supported (inproc is Go-library only, afterburn was never implemented by the of-watchdog; the modes are streaming, serializing, http and static)"
            : "not a mode (streaming, serializing, http or static, in lower case)");
        return FunctionMode.Streaming;
    }

    private static WatchdogOptions WithModeSettings(WatchdogOptions options, FunctionMode mode, SettingReader read)
    {
        Uri? upstream = null;
        if (read.Raw(WatchdogSettings.HttpUpstreamUrl) is var (url, urlSource))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out upstream) || upstream.Scheme != Uri.UriSchemeHttp || upstream.Host.Length == 0
                || upstream.Query.Length > 0 || upstream.Fragment.Length > 0)
            {
                read.Fail(WatchdogSettings.HttpUpstreamUrl, url, urlSource, "not an absolute http:// address with a host and no query (the function's server speaks plain HTTP/1.1)");
                upstream = null;
            }
        }
        else if (mode == FunctionMode.Http)
        {
            read.Missing(WatchdogSettings.HttpUpstreamUrl, "mode=http proxies every request to the function's own HTTP server at that address");
        }

        string? readyPath = null;
        if (read.Raw(WatchdogSettings.ReadyPath) is var (path, pathSource))
        {
            if (path.StartsWith('/') && !path.Contains(' ', StringComparison.Ordinal) && !path.Contains('#', StringComparison.Ordinal))
            {
                readyPath = path;
            }
            else
            {
                read.Fail(WatchdogSettings.ReadyPath, path, pathSource, "not a path; it must start with / and hold no spaces");
            }
        }

        var staticPath = Path.GetFullPath(read.Text(WatchdogSettings.StaticPath, Defaults.StaticPath));
        if (mode == FunctionMode.Static && !Directory.Exists(staticPath))
        {
            var (given, source) = read.Raw(WatchdogSettings.StaticPath) ?? (Defaults.StaticPath, "default");
            read.Fail(WatchdogSettings.StaticPath, given, source, $"folder {staticPath} does not exist; mode=static serves the files in it");
        }

        return options with
        {
            Mode = mode,
            UpstreamUrl = upstream,
            BufferRequestBody = read.Boolean(WatchdogSettings.HttpBufferReqBody, Defaults.BufferRequestBody),
            ReadyPath = readyPath,
            StaticPath = staticPath,
            LogCallId = read.Boolean(WatchdogSettings.LogCallId, Defaults.LogCallId),
        };
    }
}
