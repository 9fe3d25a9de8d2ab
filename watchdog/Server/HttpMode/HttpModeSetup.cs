using Fwatchdog.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Fwatchdog.Server.HttpMode;

/// <summary>The services mode=http adds to the watchdog's composition root.</summary>
internal static class HttpModeSetup
{
    public static void AddServices(IServiceCollection services, WatchdogOptions options)
    {
        if (!options.IsHttpMode)
        {
            return;
        }

        services.AddSingleton<UpstreamProbe>();
        services.AddSingleton<UpstreamProcess>();
        services.AddSingleton<UpstreamProxy>();
        services.AddSingleton<UpstreamHealth>();
        services.AddSingleton<HttpModeHandler>();
    }
}
