namespace Fwatchdog.Execution;

/// <summary>One run of the function: what to start, and who feeds and drains its pipes.</summary>
internal sealed record FunctionRequest
{
    /// <summary>argv: the program (absolute path or a name found on PATH) and its arguments.</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>Variables added to (or replacing) the watchdog's own environment.</summary>
    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    /// <summary>Writes the request to the child's stdin; the runner closes stdin after it returns.</summary>
    public required Func<Stream, CancellationToken, Task> WriteInput { get; init; }

    /// <summary>Reads the child's stdout until end of stream.</summary>
    public required Func<Stream, CancellationToken, Task> ReadOutput { get; init; }

    /// <summary>Reads the child's stderr until end of stream.</summary>
    public required Func<Stream, CancellationToken, Task> ReadError { get; init; }

    /// <summary>Stops the call; the reason it was given becomes the outcome.</summary>
    public required CallAbort Abort { get; init; }

    /// <summary>Hard limit for the run (zero = none).</summary>
    public TimeSpan ExecTimeout { get; init; }

    /// <summary>Time between SIGTERM and SIGKILL when the process group is stopped.</summary>
    public TimeSpan KillGrace { get; init; } = TimeSpan.FromSeconds(2);
}
