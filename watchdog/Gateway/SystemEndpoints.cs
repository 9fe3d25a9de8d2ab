using System.Security.Cryptography;
using System.Text;
using Fwatchdog.Gateway.Functions;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Gateway;

/// <summary>
/// <c>/healthz</c> (liveness, never behind auth; 503 while draining), <c>/readyz</c> (readiness) and the
/// gate of the operator's routes (basic auth when <c>basic_auth</c> is on; the password is compared in constant time).
/// </summary>
internal sealed class SystemEndpoints(GatewayOptions options, IReadOnlyDictionary<string, LocalFunctionHost> local, Queue.IJobQueue queue)
{
    /// <summary>Below this, data_dir counts as full: a queued call needs room for its row and maybe its body file.</summary>
    private const long MinimumFreeBytes = 1 << 20;

    private volatile bool _draining;

    public void StartDraining() => _draining = true;

    public Task HealthAsync(HttpContext context)
    {
        context.Response.StatusCode = _draining ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(_draining ? "draining\n" : "OK\n");
    }

    /// <summary>
    /// <c>/readyz</c>: ready to take calls of every kind. 503 with the reasons while draining,
    /// while the queue cannot store a call (a probe write that must commit within a second: a database
    /// locked by another process, read-only or full, NATS down; or less than 1 MiB free in data_dir),
    /// or while a local function is not healthy. Liveness stays <c>/healthz</c>, so a queue outage takes a gateway out of
    /// rotation without getting it restarted.
    /// </summary>
    public async Task ReadyAsync(HttpContext context)
    {
        var problems = new List<string>();
        if (_draining)
        {
            problems.Add("draining");
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await queue.CountAsync(timeout.Token);
            await queue.ProbeWriteAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            problems.Add("queue unavailable: no answer within 1s (database locked by another process, or the queue server unreachable)");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            problems.Add("queue unavailable: " + e.Message);
        }

        if (FreeBytes(options.DataDir) is { } free && free < MinimumFreeBytes)
        {
            problems.Add($"queue unavailable: data_dir {Path.GetFullPath(options.DataDir)} has {free} bytes free");
        }

        problems.AddRange(local.Where(f => f.Value.BaseUri is null).Select(f => $"local function {f.Key} is not ready"));
        context.Response.StatusCode = problems.Count == 0 ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(problems.Count == 0 ? "OK\n" : string.Join("\n", problems) + "\n");
    }

    /// <summary>Free space on data_dir's file system, or null when it cannot be told (no such folder yet).</summary>
    private static long? FreeBytes(string dataDir)
    {
        try
        {
            return new DriveInfo(Path.GetFullPath(dataDir)).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// The gate of the operator's routes (/system/*, and the listing and bulk routes of async
    /// calls): with basic_auth on, a caller without the gateway's credentials gets 401 with a Basic
    /// challenge and <paramref name="reason"/>. True when the caller was refused.
    /// </summary>
    public static async Task<bool> RefusedUnlessOperatorAsync(HttpContext context, GatewayOptions options, string reason)
    {
        if (options.BasicAuth is not var (user, password) || Authorized(context.Request, user, password))
        {
            return false;
        }

        context.Response.Headers.WWWAuthenticate = "Basic realm=\"Restricted\"";
        await GatewayFailures.WriteAsync(context, GatewayFailure.Unauthorized, reason);
        return true;
    }

    internal static bool Authorized(HttpRequest request, string user, string password)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
        }
        catch (FormatException)
        {
            return false;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        return colon >= 0
            && string.Equals(decoded[..colon], user, StringComparison.Ordinal)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(decoded[(colon + 1)..]), Encoding.UTF8.GetBytes(password));
    }
}
