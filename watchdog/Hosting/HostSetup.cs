using System.Net;
using System.Text;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Hosting;

/// <summary>What the watchdog and the gateway set up the same way: listeners and console logs (one line each, <see cref="LineLoggerProvider"/>).</summary>
internal static class HostSetup
{
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
    /// watchdogs (Go's net/http passes the bytes on). Kestrel lets control characters through, so the watchdog refuses them itself (400 bad-header) and the forwarder refuses them in responses (issue 9).
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
