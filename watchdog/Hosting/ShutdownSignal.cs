using System.Runtime.InteropServices;

namespace Fwatchdog.Hosting;

/// <summary>
/// SIGTERM and SIGINT, taken from the runtime (whose default ends the process at once) and handed
/// to the app as one awaitable signal, so it can drain in its own order first.
/// </summary>
internal sealed class ShutdownSignal : IDisposable
{
    private readonly TaskCompletionSource<PosixSignal> _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly PosixSignalRegistration _onTerm;
    private readonly PosixSignalRegistration _onInt;

    public ShutdownSignal()
    {
        _onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
        _onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
    }

    /// <summary>The first signal that arrived (or was raised).</summary>
    public Task<PosixSignal> Received => _received.Task;

    /// <summary>Acts as if <paramref name="signal"/> had arrived.</summary>
    public void Raise(PosixSignal signal) => _received.TrySetResult(signal);

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true;
        Raise(context.Signal);
    }

    public void Dispose()
    {
        _onTerm.Dispose();
        _onInt.Dispose();
    }
}
