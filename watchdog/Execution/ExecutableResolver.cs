using System.Collections.Concurrent;
using Fwatchdog.Native;

namespace Fwatchdog.Execution;

/// <summary>
/// Finds the program to run once (PATH lookup on every request is wasted work) and says clearly
/// why it cannot run when it cannot. Only successes are cached, so a binary installed later works.
/// </summary>
internal static class ExecutableResolver
{
    private static readonly ConcurrentDictionary<string, string> Cache = new(StringComparer.Ordinal);

    public static bool TryResolve(string program, out string path, out string error)
    {
        error = "";
        if (Cache.TryGetValue(program, out path!))
        {
            return true;
        }

        if (program.Contains('/', StringComparison.Ordinal))
        {
            path = Path.GetFullPath(program);
            if (!File.Exists(path))
            {
                error = $"\"{program}\" does not exist";
                return false;
            }

            if (Libc.Access(path, Libc.X_OK) != 0)
            {
                error = $"\"{program}\" is not executable (chmod +x it)";
                return false;
            }

            Cache[program] = path;
            return true;
        }

        var found = false;
        foreach (var dir in SearchPath.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (!File.Exists(candidate))
            {
                continue;
            }

            found = true;
            if (Libc.Access(candidate, Libc.X_OK) == 0)
            {
                path = candidate;
                Cache[program] = path;
                return true;
            }
        }

        path = program;
        error = found
            ? $"\"{program}\" was found on PATH but is not executable (chmod +x it)"
            : $"\"{program}\" was not found on PATH";
        return false;
    }

    /// <summary>
    /// The folders a program name is looked up in. Only the start-up line shows it: an error that
    /// can reach an HTTP caller (a 500 body, a 503's reason) never carries the environment.
    /// </summary>
    public static string SearchPath => Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
}
