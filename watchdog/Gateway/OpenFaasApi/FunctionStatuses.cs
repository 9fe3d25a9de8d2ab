using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Fwatchdog.Gateway.Functions;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Gateway.OpenFaasApi;

/// <summary>
/// GET /system/functions, /system/function/{name} and /system/namespaces: the stack file's
/// functions as OpenFaaS FunctionStatus objects. There is one namespace, <c>function_namespace</c>;
/// a <c>?namespace=</c> naming another is 404 with the reason. <c>image</c> is where the function
/// runs (<c>local</c>, or the address calls go to), <c>envProcess</c> a local function's command,
/// <c>createdAt</c> when its current process started (a remote one's: when the gateway read the stack file).
/// </summary>
internal sealed class FunctionStatuses(GatewayOptions options, FunctionRegistry registry, IReadOnlyDictionary<string, LocalFunctionHost> local, GatewayMetrics metrics, DateTimeOffset loadedAt)
{
    public Task ListAsync(HttpContext context)
    {
        if (UnknownNamespace(context.Request, options) is { } problem)
        {
            return GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, problem);
        }

        var list = registry.Configured.OrderBy(f => f.Name, StringComparer.Ordinal).Select(Status).ToArray();
        return WriteJsonAsync(context, list, SystemJson.Default.FunctionStatusBodyArray);
    }

    public Task OneAsync(HttpContext context, string addressed)
    {
        if (UnknownNamespace(context.Request, options) is { } problem)
        {
            return GatewayFailures.WriteAsync(context, GatewayFailure.FunctionNotFound, problem);
        }

        return registry.Find(registry.Bare(addressed)) is { } function
            ? WriteJsonAsync(context, Status(function), SystemJson.Default.FunctionStatusBody)
            : GatewayFailures.WriteAsync(context, GatewayFailure.FunctionNotFound, $"function {addressed} is not in the stack file");
    }

    public Task NamespacesAsync(HttpContext context) => WriteJsonAsync(context, [options.FunctionNamespace], SystemJson.Default.StringArray);

    /// <summary>Why a <c>?namespace=</c> names nothing here, or null when it is absent, empty or function_namespace.</summary>
    public static string? UnknownNamespace(HttpRequest request, GatewayOptions options) =>
        request.Query.TryGetValue("namespace", out var given) && given.ToString() is { Length: > 0 } ns && ns != options.FunctionNamespace
            ? $"namespace {ns} does not exist: every function of this gateway is in {options.FunctionNamespace} (function_namespace)"
            : null;

    private FunctionStatusBody Status(FunctionDefinition function)
    {
        var target = registry.Resolve(function.Name).Target;
        var ready = target is not null;
        var kind = function.IsLocal ? "local" : function.Upstream is not null ? "upstream" : "template";
        var image = function.IsLocal ? "local" : UpstreamUri.Shown(function.Upstream ?? target?.BaseUri) ?? "";
        var createdAt = local.GetValueOrDefault(function.Name)?.StartedAt ?? loadedAt;

        return new FunctionStatusBody(function.Name, image, options.FunctionNamespace, function.Fprocess, NullIfEmpty(function.Labels), NullIfEmpty(function.Annotations),
            metrics.Invocations(registry.MetricsName(function.Name)), 1, ready ? 1 : 0, createdAt, kind, UpstreamUri.Shown(target?.BaseUri), ready);
    }

    private static IReadOnlyDictionary<string, string>? NullIfEmpty(IReadOnlyDictionary<string, string> map) => map.Count == 0 ? null : map;

    private static Task WriteJsonAsync<T>(HttpContext context, T body, JsonTypeInfo<T> type)
    {
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, body, type, context.RequestAborted);
    }
}
