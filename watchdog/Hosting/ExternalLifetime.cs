using Microsoft.Extensions.Hosting;

namespace Fwatchdog.Hosting;

/// <summary>
/// Replaces the generic host's console lifetime, which would stop the server the moment SIGTERM
/// arrives; <see cref="WatchdogApp"/> owns signals so it can drain the OpenFaaS way.
/// </summary>
internal sealed class ExternalLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
