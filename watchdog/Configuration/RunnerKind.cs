namespace Fwatchdog.Configuration;

/// <summary>The <c>runner</c> setting: how child processes are started.</summary>
internal enum RunnerKind
{
    /// <summary><c>native</c> (the default): posix_spawn with a new process group.</summary>
    Native,

    /// <summary><c>cliwrap</c>: CliWrap under setsid.</summary>
    CliWrap,
}
