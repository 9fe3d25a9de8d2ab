using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Gateway.OpenFaasApi;

/// <summary>
/// <c>/system/*</c>: the OpenFaaS gateway REST API, for what a gateway whose functions come from a
/// stack file can do (docs/gateway.md#the-openfaas-rest-api-faas-cli-and-connectors). Behind basic auth when
/// <c>basic_auth</c> is on; paths match exactly. Deploy, update, remove, scale, secrets and
/// namespace changes answer 501: the stack file defines the functions.
/// </summary>
internal sealed class SystemRoutes(GatewayOptions options, FunctionStatuses functions, FunctionLogs logs)
{
    public const string Prefix = "/system/";
    private const string FunctionPrefix = "/system/function/";
    private const string ScalePrefix = "/system/scale-function/";
    private const string NamespacePrefix = "/system/namespace/";
    private const string StackFileLink = "docs/gateway.md#the-stack-file-config";

    private static readonly byte[] Info = JsonSerializer.SerializeToUtf8Bytes(SystemInfo.Describe(), SystemJson.Default.GatewayInfoBody);

    public async Task HandleAsync(HttpContext context)
    {
        if (await SystemEndpoints.RefusedUnlessOperatorAsync(context, options, "invalid credentials"))
        {
            return;
        }

        var path = context.Request.Path.Value ?? "";
        var get = HttpMethods.IsGet(context.Request.Method);
        var change = HttpMethods.IsPost(context.Request.Method) || HttpMethods.IsPut(context.Request.Method) || HttpMethods.IsDelete(context.Request.Method);
        await (path switch
        {
            "/system/functions" when get => functions.ListAsync(context),
            "/system/functions" when change => NotImplementedAsync(context, $"functions come from the stack file: deploy, update or remove one by editing it and restarting the gateway ({StackFileLink})"),
            "/system/namespaces" or "/system/info" or "/system/logs" or "/system/functions" when !get => MethodNotAllowedAsync(context),
            "/system/namespaces" => functions.NamespacesAsync(context),
            "/system/info" => InfoAsync(context),
            "/system/logs" => logs.HandleAsync(context),
            "/system/secrets" => NotImplementedAsync(context, $"secrets are not kept by the gateway: give a local function its variables in the stack file's environment ({StackFileLink})"),
            _ when path.StartsWith(ScalePrefix, StringComparison.Ordinal) =>
                NotImplementedAsync(context, $"each function of the stack file runs as one process or at one address; scaling is not the gateway's ({StackFileLink})"),
            _ when path.StartsWith(NamespacePrefix, StringComparison.Ordinal) =>
                NotImplementedAsync(context, $"the gateway has one namespace, {options.FunctionNamespace}, and the stack file defines its functions ({StackFileLink})"),
            _ when path.StartsWith(FunctionPrefix, StringComparison.Ordinal) && !get => MethodNotAllowedAsync(context),
            _ when path.StartsWith(FunctionPrefix, StringComparison.Ordinal) => functions.OneAsync(context, path[FunctionPrefix.Length..]),
            _ => GatewayFailures.WriteAsync(context, GatewayFailure.NotFound, "no such route"),
        });
    }

    private static Task InfoAsync(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        return context.Response.Body.WriteAsync(Info, context.RequestAborted).AsTask();
    }

    private static Task NotImplementedAsync(HttpContext context, string reason) => GatewayFailures.WriteAsync(context, GatewayFailure.NotImplemented, reason);

    private static Task MethodNotAllowedAsync(HttpContext context)
    {
        context.Response.Headers.Allow = "GET";
        return GatewayFailures.WriteAsync(context, GatewayFailure.MethodNotAllowed, "only GET is supported here; the stack file defines the functions");
    }
}
