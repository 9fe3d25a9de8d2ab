using System.Text.Json;
using Fwatchdog.Gateway.Async;
using Fwatchdog.Gateway.Functions;
using Fwatchdog.Gateway.Queue;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Gateway.Ui;

/// <summary>
/// The console (docs/console.md): <c>/ui</c> redirects to <c>/ui/</c>, which serves the page and
/// its files from the binary, and <c>GET /ui/api/functions</c> gives the numbers per function that
/// no other route gives. An operator's route like /system/*: behind basic_auth when it is on.
/// Every answer forbids framing, sniffing and any script or style not served from here, since the
/// page shows what functions wrote.
/// </summary>
internal sealed class ConsoleEndpoints(GatewayOptions options, FunctionRegistry registry, GatewayMetrics metrics, IJobQueue queue, AsyncDispatcher dispatcher)
{
    public const string Root = "/ui";
    public const string Prefix = "/ui/";
    public const string FunctionsPath = "/ui/api/functions";

    private const string Policy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

    public async Task HandleAsync(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = Policy;
        headers.XFrameOptions = "DENY";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        if (await SystemEndpoints.RefusedUnlessOperatorAsync(context, options, "the console is the operator's: send the gateway's basic_auth credentials"))
        {
            return;
        }

        if (!(HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)))
        {
            headers.Allow = "GET, HEAD";
            await GatewayFailures.WriteAsync(context, GatewayFailure.MethodNotAllowed, $"{context.Request.Method} is not allowed here; the console only reads");
            return;
        }

        var path = context.Request.Path.Value ?? "";
        if (path == Root)
        {
            context.Response.StatusCode = StatusCodes.Status308PermanentRedirect;
            headers.Location = Prefix;
            return;
        }

        if (path == FunctionsPath)
        {
            await WriteFunctionsAsync(context);
            return;
        }

        var name = path[Prefix.Length..] is { Length: > 0 } file ? file : "index.html";
        if (ConsoleAssets.Find(name) is not { } asset)
        {
            await GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, "no such console file; open /ui/");
            return;
        }

        await WriteAssetAsync(context, asset);
    }

    /// <summary>Revalidated at every load (no-cache) and answered 304 while unchanged: a new binary shows its own console at once.</summary>
    private static async Task WriteAssetAsync(HttpContext context, ConsoleAsset asset)
    {
        context.Response.Headers.ETag = asset.ETag;
        context.Response.Headers.CacheControl = "no-cache";
        if (context.Request.Headers.IfNoneMatch.Any(tag => tag is not null && tag.Split(',', StringSplitOptions.TrimEntries).Contains(asset.ETag, StringComparer.Ordinal)))
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        context.Response.ContentType = asset.ContentType;
        context.Response.ContentLength = asset.Bytes.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(asset.Bytes, context.RequestAborted);
        }
    }

    private async Task WriteFunctionsAsync(HttpContext context)
    {
        var list = new List<ConsoleFunction>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        foreach (var function in registry.Configured.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            long? queued = null, running = null;
            try
            {
                var usage = await queue.UsageAsync(function.Name, timeout.Token);
                running = dispatcher.RunningFor(function.Name);
                queued = Math.Max(0, usage.Calls - running.Value);
            }
            catch (Exception e) when (e is QueueUnavailableException || (e is OperationCanceledException && !context.RequestAborted.IsCancellationRequested))
            {
                // The call counts still say something: the queue's part is left out, not the answer.
            }

            var counted = registry.MetricsName(function.Name);
            list.Add(new ConsoleFunction(function.Name, metrics.Invocations(counted), metrics.Errors(counted), queued, running));
        }

        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await JsonSerializer.SerializeAsync(context.Response.Body, new ConsoleOverview(options.BasicAuth is not null, list.ToArray()), AsyncJson.Default.ConsoleOverview, context.RequestAborted);
    }
}
