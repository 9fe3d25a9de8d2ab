using System.Net;
using System.Text;
using Fwatchdog.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Hosting;

/// <summary>What the watchdog and the gateway set up the same way: Kestrel, listeners and console logs (one line each, <see cref="LineLoggerProvider"/>).</summary>
internal static class HostSetup
{
    /// <summary>Kestrel's own limit on how long a client may take to send its request headers.</summary>
    public static readonly TimeSpan DefaultHeadersTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// An empty web host on Kestrel listening on <paramref name="port"/> (and on
    /// <paramref name="metricsPort"/> unless 0), with byte-transparent headers and no server
    /// header, one-line logs, and a lifetime the app drives itself (its own signal handling).
    /// </summary>
    /// <param name="maxRequestBytes">The largest request body Kestrel takes; null for no limit.</param>
    /// <param name="headersTimeout">How long a client may take to send its request headers; null keeps Kestrel's default, <see cref="DefaultHeadersTimeout"/>.</param>
    public static WebApplicationBuilder CreateBuilder(string bind, int port, int metricsPort, long? maxRequestBytes, TimeSpan? headersTimeout, bool debug)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            Listen(kestrel, bind, port);
            if (metricsPort != 0)
            {
                Listen(kestrel, bind, metricsPort);
            }

            kestrel.AddServerHeader = false;
            ByteTransparentHeaders(kestrel);
            kestrel.Limits.MaxRequestBodySize = maxRequestBytes;

            // Our own read/write timeouts rule; Kestrel's minimum data rates would otherwise abort
            // slow uploads and downloads with surprises.
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.MinResponseDataRate = null;
            if (headersTimeout is { } timeout)
            {
                kestrel.Limits.RequestHeadersTimeout = timeout;
            }
        });
        Logging(builder.Logging, debug);
        builder.Services.AddSingleton<IHostLifetime, ExternalLifetime>();
        return builder;
    }

    public static void Listen(KestrelServerOptions kestrel, string bind, int port)
    {
        switch (bind)
        {
            case "*" or "":
                kestrel.ListenAnyIP(port);
                break;
            case "localhost":
                kestrel.ListenLocalhost(port);
                break;
            default:
                kestrel.Listen(IPAddress.Parse(bind), port);
                break;
        }
    }

    /// <summary>
    /// Header bytes pass through unchanged: each byte is one char (Latin-1) on the way in and on the way out,
    /// so UTF-8 (or any other) bytes in header values survive end to end, as with the OpenFaaS gateway and
    /// watchdogs (Go's net/http passes the bytes on). Kestrel lets control characters through, so the watchdog refuses them itself (400 bad-header) and the forwarder refuses them in responses.
    /// </summary>
    public static void ByteTransparentHeaders(KestrelServerOptions kestrel)
    {
        kestrel.RequestHeaderEncodingSelector = static _ => Encoding.Latin1;
        kestrel.ResponseHeaderEncodingSelector = static _ => Encoding.Latin1;
    }

    public static void Logging(ILoggingBuilder logging, bool debug)
    {
        logging.Services.AddSingleton<ILoggerProvider, LineLoggerProvider>();
        logging.SetMinimumLevel(debug ? LogLevel.Debug : LogLevel.Information);
        logging.AddFilter("Microsoft", LogLevel.Warning);

        // Hosting makes an Activity for every request whenever this category is enabled at any
        // level (3-4% of a mode=http call's CPU). Above Information it logs a failed start, which
        // the command line reports itself (Cli/StartupFailure), and overridden addresses, which we never set.
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);

        // A failed start (a port in use) is one line from the command line (Cli/StartupFailure); the host's stack trace is noise.
        logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
    }

    /// <summary>The first listening address that is not <paramref name="exceptPort"/>, with wildcard hosts made dialable.</summary>
    public static Uri MainAddress(IEnumerable<string> addresses, int exceptPort) => addresses
        .Select(a => new Uri(a.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal)))
        .First(uri => exceptPort == 0 || uri.Port != exceptPort);
}
