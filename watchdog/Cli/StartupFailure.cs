using System.Net;
using System.Net.Sockets;
using Fwatchdog.Hosting;
using Microsoft.AspNetCore.Connections;

namespace Fwatchdog.Cli;

/// <summary>
/// Turns what stops a server from starting into one line for a human (exit 2, no stack trace):
/// our own <see cref="StartupException"/>, a port already in use, the SQLite library missing.
/// Anything else is a bug and keeps its stack trace.
/// </summary>
internal static class StartupFailure
{
    /// <summary>
    /// Creates and runs a server; a start-up problem the user can fix is printed as one line and
    /// gives exit code 2. The server is stopped before the line is made, so that a port it did bind
    /// is free again when we look for the busy one.
    /// </summary>
    public static async Task<int> RunAsync<TApp>(Func<TApp> create, Func<TApp, Task<int>> run, string bind, params (string Setting, int Port)[] ports)
        where TApp : class, IAsyncDisposable
    {
        TApp? app = null;
        try
        {
            app = create();
            return await run(app);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            if (app is not null)
            {
                await app.DisposeAsync();
                app = null;
            }

            if (Describe(e, bind, ports) is { } problem)
            {
                return Report(problem);
            }

            throw;
        }
        finally
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }
        }
    }

    /// <summary>The line to print, or null when <paramref name="error"/> is not a start-up problem the user can fix.</summary>
    private static string? Describe(Exception error, string bind, params (string Setting, int Port)[] ports) => error switch
    {
        StartupException startup => startup.Message,
        _ when Find<AddressInUseException>(error) is not null => InUse(bind, ports),
        _ when Find<DllNotFoundException>(error) is not null =>
            "the SQLite library (libe_sqlite3.so) cannot be loaded; a framework-dependent build keeps it under runtimes/<rid>/native/ beside fwatchdog.dll: copy the whole publish folder, or use the NativeAOT binary, which has SQLite linked in",
        _ => null,
    };

    private static int Report(string problem)
    {
        Console.Error.WriteLine("fwatchdog: cannot start: " + problem);
        return WatchdogCommand.ConfigErrorExitCode;
    }

    /// <summary>Kestrel's error does not say which of our ports it was: try each.</summary>
    private static string InUse(string bind, (string Setting, int Port)[] ports)
    {
        foreach (var (setting, port) in ports.Where(p => p.Port != 0))
        {
            if (!CanBind(bind, port))
            {
                return $"{setting}={port}: the port is already in use by another process; stop it, or set {setting} to a free port";
            }
        }

        return $"{string.Join(" or ", ports.Select(p => $"{p.Setting}={p.Port}"))}: a port is already in use by another process";
    }

    private static bool CanBind(string bind, int port)
    {
        var address = IPAddress.TryParse(bind, out var parsed) ? parsed : bind == "localhost" ? IPAddress.Loopback : IPAddress.IPv6Any;
        try
        {
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(new IPEndPoint(address, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static T? Find<T>(Exception? error)
        where T : Exception
    {
        for (; error is not null; error = error.InnerException)
        {
            if (error is T found)
            {
                return found;
            }
        }

        return null;
    }
}
