using System.IO.Pipes;
using System.Runtime.InteropServices;
using System.Text;
using Fwatchdog.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Fwatchdog.Execution;

/// <summary>
/// The lean spawn path (<c>runner=native</c>, the default): one <c>posix_spawn</c> with
/// POSIX_SPAWN_SETPGROUP, so the run leads its own process group without the extra exec of a
/// wrapper. The group stays in the watchdog's session: Linux's scheduler autogroups give every
/// session a scheduling group of its own, and a mode=http server in a session of its own got about
/// 40% fewer requests through on 2 cores. Only when the watchdog has a controlling
/// terminal does each run get a session of its own (POSIX_SPAWN_SETSID), so that no function can
/// read or write that terminal or be stopped by it (SIGTTIN, SIGTTOU). The environment block of
/// the watchdog is built once, not per call; exits are collected by one reaper thread. Same contract as <see cref="CliWrapFunctionRunner"/>.
/// </summary>
internal sealed class NativeFunctionRunner : IFunctionRunner, IDisposable
{
    /// <summary>Whether runs get a session of their own: only when the watchdog has a controlling terminal.</summary>
    internal static readonly bool NewSession = HasControllingTerminal();

    private readonly ProcessTable _table;
    private readonly ILogger _logger;
    private readonly List<(string Key, nint Entry)> _baseEnvironment = [];
    private readonly Dictionary<IReadOnlyList<string>, nint> _argvCache = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _argvLock = new();

    public NativeFunctionRunner(ProcessTable table, ILogger<NativeFunctionRunner> logger)
    {
        _table = table;
        _logger = logger;
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            _baseEnvironment.Add(((string)entry.Key, Utf8($"{entry.Key}={entry.Value}")));
        }
    }

    public void KillAll() => _table.KillAll();

    public async Task<FunctionResult> RunAsync(FunctionRequest request)
    {
        if (!ExecutableResolver.TryResolve(request.Command[0], out var program, out var error))
        {
            return new FunctionResult(FunctionOutcome.StartFailed, null, $"the function process could not be started: {error}");
        }

        if (!TrySpawn(program, request, out var pid, out var stdin, out var stdout, out var stderr, out var holders, out error))
        {
            return new FunctionResult(FunctionOutcome.StartFailed, null, $"the function process could not be started: {error}");
        }

        var exit = ChildReaper.Shared.WaitAsync(pid);
        _table.Add(pid);
        using var stopFeeding = new CancellationTokenSource();
        using var stopPipes = new CancellationTokenSource();
        var feeding = FeedAsync(request, stdin, stopFeeding.Token);
        var output = request.ReadOutput(stdout, stopPipes.Token);
        var errors = request.ReadError(stderr, stopPipes.Token);
        var everything = Task.WhenAll(exit, output, errors);
        var group = new ProcessGroup(pid, isGroupLeader: true, request.KillGrace, everything, stopPipes, holders, _logger);
        using var execTimer = request.ExecTimeout > TimeSpan.Zero ? new CancellationTokenSource(request.ExecTimeout) : null;
        using var onExecTimeout = execTimer?.Token.Register(() => request.Abort.Trigger(FunctionOutcome.TimedOut));
        using var onAbort = request.Abort.Token.Register(group.Stop);

        int exitCode;
        try
        {
            exitCode = await exit;

            // The main process is gone: stop feeding it, and stop what is left of its group so
            // background processes neither outlive the call nor hold its stdout open.
            await stopFeeding.CancelAsync();
            group.Stop();

            // Pipe reads cannot be cancelled, so a holder that could not be stopped is left
            // behind by this bounded wait instead of holding the call.
            await Task.WhenAll(output, errors).WaitAsync(stopPipes.Token);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            exitCode = exit.IsCompletedSuccessfully ? exit.Result : -1;
        }
        finally
        {
            Libc.SignalGroup(pid, Libc.SIGKILL);
            _table.Remove(pid);
            await BoundedAsync(feeding, request.KillGrace);
            await stdout.DisposeAsync();
            await stderr.DisposeAsync();
        }

        return FunctionResult.Ended(exitCode, request.Abort.Reason);
    }

    public unsafe void Dispose()
    {
        foreach (var (_, entry) in _baseEnvironment)
        {
            NativeMemory.Free((void*)entry);
        }

        foreach (var argv in _argvCache.Values)
        {
            FreeArray((byte**)argv);
        }
    }

    /// <summary>
    /// Waits for the stdin feeder, at most <paramref name="limit"/>: a pipe write cannot be
    /// cancelled, and a process outside the group may hold stdin without reading it.
    /// </summary>
    private static async Task BoundedAsync(Task feeding, TimeSpan limit)
    {
        try
        {
            await feeding.WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            // Left behind; it ends with an error when the holder goes.
        }
    }

    private static async Task FeedAsync(FunctionRequest request, Stream stdin, CancellationToken cancellationToken)
    {
        try
        {
            await request.WriteInput(stdin, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // The process stopped reading (EPIPE) or exited: not an error.
        }
        finally
        {
            try
            {
                await stdin.DisposeAsync();
            }
            catch (IOException)
            {
            }
        }
    }

    private unsafe bool TrySpawn(
        string program, FunctionRequest request, out int pid, out Stream stdin, out Stream stdout, out Stream stderr, out PipeHolders holders, out string error)
    {
        var fds = stackalloc int[6];
        pid = 0;
        stdin = stdout = stderr = Stream.Null;
        holders = PipeHolders.None;
        error = "";
        if (Spawn.Pipe2(fds, Spawn.O_CLOEXEC) != 0 || Spawn.Pipe2(fds + 2, Spawn.O_CLOEXEC) != 0 || Spawn.Pipe2(fds + 4, Spawn.O_CLOEXEC) != 0)
        {
            error = $"pipe2 failed (errno {Marshal.GetLastPInvokeError()})";
            return false;
        }

        var attributes = stackalloc byte[Spawn.OpaqueSize];
        var actions = stackalloc byte[Spawn.OpaqueSize];
        var signals = stackalloc byte[Spawn.OpaqueSize];
        Spawn.AttrInit(attributes);
        Spawn.ActionsInit(actions);

        // The runtime ignores SIGPIPE and may block signals; a child must start with defaults.
        // Every signal is in the default set: glibc's child then makes one sigaction per signal,
        // where a smaller set would make it read each other signal's disposition first (measured
        // slower).
        var group = NewSession ? Spawn.POSIX_SPAWN_SETSID : Spawn.POSIX_SPAWN_SETPGROUP;
        Spawn.AttrSetFlags(attributes, (short)(group | Spawn.POSIX_SPAWN_SETSIGDEF | Spawn.POSIX_SPAWN_SETSIGMASK));
        Spawn.AttrSetPgroup(attributes, 0);
        Spawn.SigEmptySet(signals);
        Spawn.AttrSetSigMask(attributes, signals);
        Spawn.SigFillSet(signals);
        Spawn.AttrSetSigDefault(attributes, signals);
        Spawn.ActionsAddDup2(actions, fds[0], 0);
        Spawn.ActionsAddDup2(actions, fds[3], 1);
        Spawn.ActionsAddDup2(actions, fds[5], 2);

        var path = (byte*)Utf8(program);
        var argv = Argv(request.Command, program);
        var envp = Envp(request.Environment, out var extras);
        int result;
        try
        {
            result = Spawn.PosixSpawn(out pid, path, actions, attributes, argv, envp);
        }
        finally
        {
            Spawn.AttrDestroy(attributes);
            Spawn.ActionsDestroy(actions);
            NativeMemory.Free(path);
            NativeMemory.Free(envp);
            foreach (var extra in extras)
            {
                NativeMemory.Free((void*)extra);
            }

            Spawn.Close(fds[0]);
            Spawn.Close(fds[3]);
            Spawn.Close(fds[5]);
        }

        if (result != 0)
        {
            Spawn.Close(fds[1]);
            Spawn.Close(fds[2]);
            Spawn.Close(fds[4]);
            error = $"posix_spawn of \"{program}\" failed: {Marshal.GetPInvokeErrorMessage(result)}";
            return false;
        }

        holders = PipeHolders.OfOwn(fds[1], fds[2], fds[4]);
        stdin = new AnonymousPipeClientStream(PipeDirection.Out, new SafePipeHandle(fds[1], ownsHandle: true));
        stdout = new AnonymousPipeClientStream(PipeDirection.In, new SafePipeHandle(fds[2], ownsHandle: true));
        stderr = new AnonymousPipeClientStream(PipeDirection.In, new SafePipeHandle(fds[4], ownsHandle: true));
        return true;
    }

    /// <summary>argv for a command, built once per command list (the options' list never changes).</summary>
    private unsafe byte** Argv(IReadOnlyList<string> command, string program)
    {
        lock (_argvLock)
        {
            if (!_argvCache.TryGetValue(command, out var cached))
            {
                var argv = (byte**)NativeMemory.Alloc((nuint)(command.Count + 1), (nuint)sizeof(byte*));
                argv[0] = (byte*)Utf8(program);
                for (var i = 1; i < command.Count; i++)
                {
                    argv[i] = (byte*)Utf8(command[i]);
                }

                argv[command.Count] = null;
                cached = (nint)argv;
                _argvCache[command] = cached;
            }

            return (byte**)cached;
        }
    }

    /// <summary>The watchdog's environment (built once) plus this call's variables, which win.</summary>
    private unsafe byte** Envp(IReadOnlyDictionary<string, string> variables, out List<nint> extras)
    {
        extras = new List<nint>(variables.Count);
        var envp = (byte**)NativeMemory.Alloc((nuint)(_baseEnvironment.Count + variables.Count + 1), (nuint)sizeof(byte*));
        var n = 0;
        foreach (var (key, entry) in _baseEnvironment)
        {
            if (!variables.ContainsKey(key))
            {
                envp[n++] = (byte*)entry;
            }
        }

        foreach (var (key, value) in variables)
        {
            var entry = Utf8($"{key}={value}");
            extras.Add(entry);
            envp[n++] = (byte*)entry;
        }

        envp[n] = null;
        return envp;
    }

    private static unsafe void FreeArray(byte** array)
    {
        for (var p = array; *p != null; p++)
        {
            NativeMemory.Free(*p);
        }

        NativeMemory.Free(array);
    }

    private static unsafe nint Utf8(string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        var buffer = (byte*)NativeMemory.Alloc((nuint)length + 1);
        Encoding.UTF8.GetBytes(text, new Span<byte>(buffer, length));
        buffer[length] = 0;
        return (nint)buffer;
    }

    /// <summary>/dev/tty opens only for a process with a controlling terminal (ENXIO otherwise).</summary>
    private static bool HasControllingTerminal()
    {
        try
        {
            using var tty = new FileStream("/dev/tty", FileMode.Open, FileAccess.Read);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
