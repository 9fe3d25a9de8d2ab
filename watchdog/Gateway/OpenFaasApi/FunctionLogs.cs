using System.Globalization;
using System.Text.Json;
using Fwatchdog.Gateway.Async;
using Fwatchdog.Gateway.Functions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Fwatchdog.Gateway.OpenFaasApi;

/// <summary>
/// <c>GET /system/logs?name=&amp;namespace=&amp;instance=&amp;since=&amp;tail=&amp;follow=</c>: a local
/// function's recent lines (<see cref="FunctionLog"/>) as newline-delimited JSON, one faas-provider
/// logs.Message a line; <c>tail</c> 0 or less means every kept line; with <c>follow=true</c> new lines
/// follow until the caller goes, the gateway stops, or just before <c>write_timeout</c> (the response
/// then ends cleanly, where the deadline would cut the connection). A
/// function the gateway does not run (upstream, template) has no lines here: 404 saying so.
/// </summary>
internal sealed class FunctionLogs(GatewayOptions options, FunctionRegistry registry, IReadOnlyDictionary<string, LocalFunctionHost> local)
{
    public async Task HandleAsync(HttpContext context)
    {
        if (FunctionStatuses.UnknownNamespace(context.Request, options) is { } unknown)
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, unknown);
            return;
        }

        var query = Parse(context.Request.Query);
        if (query.Error is not null || query.Name is not { } name)
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.BadQuery, query.Error ?? "name is required");
            return;
        }

        var bare = registry.Bare(name);
        if (registry.Find(bare) is not { } function)
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.FunctionNotFound, $"function {name} is not in the stack file");
            return;
        }

        if (!local.TryGetValue(bare, out var host))
        {
            var where = function.Upstream is { } upstream ? $"at {UpstreamUri.Shown(upstream)}" : "at the address of upstream_template";
            await GatewayFailures.WriteAsync(context, GatewayFailure.NotFound,
                $"function {bare} is not run by this gateway but {where}; its logs are where it runs (only local functions, with fprocess, have logs here)");
            return;
        }

        var (kept, follower) = host.Log.Read(query.Since, query.Tail, query.Follow, query.Instance);
        using (follower)
        {
            context.Response.ContentType = "application/x-ndjson";
            var lifetime = context.RequestServices.GetRequiredService<IHostApplicationLifetime>();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
            if (options.WriteTimeout > TimeSpan.Zero)
            {
                // write_timeout closes the connection mid-stream, which a client decoding the lines
                // (faas-cli logs) reports as an error; ending the response a little before is a clean end.
                stop.CancelAfter(Max(options.WriteTimeout - TimeSpan.FromSeconds(1), options.WriteTimeout / 2));
            }
            try
            {
                foreach (var line in kept)
                {
                    await WriteAsync(context, bare, line, query.Instance, stop.Token);
                }

                await context.Response.Body.FlushAsync(stop.Token);
                if (follower is not null)
                {
                    await foreach (var line in follower.ReadAllAsync(stop.Token))
                    {
                        await WriteAsync(context, bare, line, query.Instance, stop.Token);
                        await context.Response.Body.FlushAsync(stop.Token);
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
                // The caller went, or the gateway is stopping: the stream ends here.
            }
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private Task WriteAsync(HttpContext context, string name, FunctionLog.LogLine line, string? instance, CancellationToken cancellationToken)
    {
        if (instance is not null && instance != line.Instance)
        {
            return Task.CompletedTask;
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(new LogMessageBody(name, options.FunctionNamespace, line.Instance, line.Timestamp, line.Text), SystemJson.Default.LogMessageBody);
        byte[] withNewline = [.. body, (byte)'\n'];
        return context.Response.Body.WriteAsync(withNewline, cancellationToken).AsTask();
    }

    /// <summary>The query as faas-cli writes it; a value that means nothing is an error naming it, never an empty answer.</summary>
    internal static LogQuery Parse(IQueryCollection query)
    {
        var name = query["name"].ToString();
        if (name.Length == 0)
        {
            return LogQuery.Fail("name is required: the function whose lines to show, e.g. /system/logs?name=echo&tail=20");
        }

        DateTimeOffset? since = null;
        if (query.TryGetValue("since", out var sinceText))
        {
            if (!DateTimeOffset.TryParseExact(sinceText.ToString(), CallFilters.Rfc3339, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
            {
                return LogQuery.Fail($"since={sinceText}: give an RFC 3339 time, e.g. since=2026-12-03T17:00:00Z");
            }

            since = at;
        }

        var tail = 0;
        if (query.TryGetValue("tail", out var tailText) && !int.TryParse(tailText.ToString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out tail))
        {
            return LogQuery.Fail($"tail={tailText}: give a whole number of lines (0 or less: every kept line)");
        }

        var follow = false;
        if (query.TryGetValue("follow", out var followText) && !bool.TryParse(followText.ToString(), out follow))
        {
            return LogQuery.Fail($"follow={followText}: give true or false");
        }

        var instance = query["instance"].ToString();
        return new LogQuery(name, since, tail, follow, instance.Length == 0 ? null : instance, null);
    }

    internal sealed record LogQuery(string? Name, DateTimeOffset? Since, int Tail, bool Follow, string? Instance, string? Error)
    {
        public static LogQuery Fail(string error) => new(null, null, 0, false, null, error);
    }
}
