namespace Fwatchdog.Configuration;

/// <summary>The <c>mode</c> setting: how the function runs.</summary>
internal enum FunctionMode
{
    /// <summary><c>streaming</c> (the default): a process per request, output streamed as it comes.</summary>
    Streaming,

    /// <summary><c>serializing</c>: the of-watchdog's name for the same fork-per-request behaviour here.</summary>
    Serializing,

    /// <summary><c>http</c>: one long-lived HTTP server, proxied.</summary>
    Http,

    /// <summary><c>static</c>: the files of <c>static_path</c>.</summary>
    Static,
}
